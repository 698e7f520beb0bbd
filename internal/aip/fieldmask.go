package aip

import (
	"strings"
	"unicode"
)

// ParseMask splits an update mask (AIP-134), a comma-separated list of field
// paths such as "description, trigger_configs,taskConfigs", into paths in
// lowerCamelCase, the JSON names: ["description", "triggerConfigs",
// "taskConfigs"]. Paths are trimmed; empty entries and repeated paths are
// dropped. Each segment of a dotted path is converted ("a_b.c_d" gives
// "aB.cD"). "*" (the whole resource) is kept as is. An empty mask gives nil.
func ParseMask(s string) []string {
	var out []string
	seen := map[string]bool{}
	for p := range strings.SplitSeq(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		p = LowerCamel(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// LowerCamel converts each dot-separated segment of a snake_case path to
// lowerCamelCase: every underscore is dropped and the character after it
// upper-cased ("trigger_configs.task_id" gives "triggerConfigs.taskId").
// Other characters are unchanged, so lowerCamelCase input is returned as is.
func LowerCamel(path string) string {
	if !strings.Contains(path, "_") {
		return path
	}
	var b strings.Builder
	up := false
	for _, r := range path {
		switch {
		case r == '_':
			up = true
			continue
		case r == '.':
			up = false
		case up:
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
