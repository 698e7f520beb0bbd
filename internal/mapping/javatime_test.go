package mapping

import (
	"strings"
	"testing"
	"time"
)

func TestJavaPattern(t *testing.T) {
	t.Parallel()
	mon := time.Date(2024, 2, 5, 3, 4, 5, 6_000_000, time.UTC) // a Monday
	pm := time.Date(2024, 7, 1, 20, 0, 0, 0, time.UTC)
	midnight := time.Date(2024, 7, 1, 0, 30, 0, 0, time.UTC)
	newYear := time.Date(2021, 12, 31, 12, 0, 0, 0, time.UTC) // a Friday in week 1 of 2022
	tests := []struct {
		at      time.Time
		zone    string
		pattern string
		want    string
	}{
		{mon, "UTC", "y yy yyyy yyyyy u", "2024 24 2024 02024 2024"},
		{mon, "UTC", "M MM MMM MMMM MMMMM L", "2 02 Feb February F 2"},
		{mon, "UTC", "d dd D DDD", "5 05 36 036"},
		{mon, "UTC", "H HH h hh k K", "3 03 3 03 3 3"},
		{mon, "UTC", "m mm s ss", "4 04 5 05"},
		{mon, "UTC", "S SS SSS SSSSSS", "0 00 006 006000"},
		{mon, "UTC", "a", "AM"},
		{mon, "UTC", "E EEE EEEE EEEEE e eeee", "Mon Mon Monday M 2 Monday"},
		{mon, "UTC", "Q QQ QQQ QQQQ", "1 01 Q1 1st quarter"},
		{mon, "UTC", "G GGGG w W", "AD Anno Domini 6 2"},
		{mon, "UTC", "A n N", "11045006 6000000 11045006000000"},
		{mon, "UTC", "z zzzz Z ZZZZ ZZZZZ X XXX x xxx O VV", "UTC Coordinated Universal Time +0000 GMT Z Z Z +00 +00:00 GMT UTC"},
		{mon, "GMT", "z zzzz", "GMT Greenwich Mean Time"},
		{mon, "utc", "z", "UTC"},
		{mon, "UTC", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2024-02-05T03:04:05.006Z"},
		{mon, "UTC", "h 'o''clock' a ''", "3 o'clock AM '"},
		{mon, "UTC", "[yyyy]", "2024"},
		{mon, "UTC+05:30", "HH:mm z Z X XX XXX ZZZZ O OOOO VV", "08:34 UTC+05:30 +0530 +0530 +0530 +05:30 GMT+05:30 GMT+5:30 GMT+05:30 UTC+05:30"},
		{mon, "UTC+5", "HH:mm z", "08:04 UTC+05:00"},
		{mon, "UTC+0", "z", "UTC"},
		{mon, "+05:30", "z", "+05:30"},
		{mon, "GMT-8", "yyyy-MM-dd HH:mm z Z X", "2024-02-04 19:04 GMT-08:00 -0800 -08"},
		{mon, "Europe/Paris", "HH:mm z zzzz Z O VV", "04:04 CET Central European Standard Time +0100 GMT+1 Europe/Paris"},
		{mon, "Asia/Kolkata", "HH:mm z", "08:34 IST"},
		{pm, "America/Los_Angeles", "h:mm a k K H z Z", "1:00 PM 13 1 13 PDT -0700"},
		{midnight, "UTC", "h K k H", "12 0 24 0"},
		{newYear, "UTC", "YYYY-'W'ww yyyy E", "2022-W01 2021 Fri"},
	}
	for _, tc := range tests {
		t.Run(tc.zone+" "+tc.pattern, func(t *testing.T) {
			t.Parallel()
			f, err := compileJavaPattern(tc.pattern)
			if err != nil {
				t.Fatal(err)
			}
			loc, err := parseZone(tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.format(tc.at.In(loc)); got != tc.want {
				t.Fatalf("format(%q, %s) = %q, want %q", tc.pattern, tc.zone, got, tc.want)
			}
		})
	}
}

func TestJavaPatternErrors(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"dddd":     "wrong number of pattern letters: dddd",
		"aa":       "wrong number of pattern letters: aa",
		"VVV":      "wrong number of pattern letters: VVV",
		"OO":       "wrong number of pattern letters: OO",
		"yyyy-bb":  "unsupported pattern letter 'b'",
		"F":        "unsupported pattern letter 'F'",
		"'abc":     "unterminated quote",
		"yyyy{MM}": "reserved character '{'",
	} {
		if _, err := compileJavaPattern(pattern); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("compileJavaPattern(%q) = %v, want %q", pattern, err, want)
		}
	}
	for _, zone := range []string{"", "Local", "Mars/Olympus", "UTC+19", "+5:3", "AEDT", "EST", "CET", "GMT+ab", "../etc/passwd"} {
		if _, err := parseZone(zone); err == nil {
			t.Errorf("parseZone(%q) = nil error, want one", zone)
		}
	}
}
