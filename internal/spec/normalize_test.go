package spec

import "testing"

func TestHasSnakeKey(t *testing.T) {
	t.Parallel()
	cases := map[string]bool{
		`{"triggerId":"api_trigger/x"}`:                   false,
		`{"trigger_id":"x"}`:                              true,
		`{"a" : {"input_parameters" :{}}}`:                true,
		`{"inputParameters":{"order_id":{"intValue":1}}}`: true, // a map key: the slow path keeps it
		`{"s":"a \"b_c\": d"}`:                            false,
		`["x_y", "z"]`:                                    false,
		`{"x_y"`:                                          false,
		``:                                                false,
	}
	for in, want := range cases {
		if got := hasSnakeKey([]byte(in)); got != want {
			t.Errorf("hasSnakeKey(%s) = %v, want %v", in, got, want)
		}
	}
}
