package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones for EPOCH_TO_HUMAN_READABLE_TIME on hosts without zoneinfo
)

// parseZone reads a Java ZoneId: UTC, GMT, UT, Z, an offset with or without
// one of those prefixes, or an IANA region name.
func parseZone(s string) (*time.Location, error) {
	t := strings.TrimSpace(s)
	up := strings.ToUpper(t)
	switch up {
	case "":
		return nil, fmt.Errorf("the time zone is empty")
	case "UTC", "GMT", "UT":
		return time.FixedZone(up, 0), nil
	case "Z":
		return time.FixedZone("Z", 0), nil
	}
	for _, prefix := range []string{"UTC", "GMT", "UT", ""} {
		if !strings.HasPrefix(up, prefix) {
			continue
		}
		rest := t[len(prefix):]
		if rest == "" || (rest[0] != '+' && rest[0] != '-') {
			continue
		}
		secs, ok := parseOffset(rest)
		if !ok {
			return nil, fmt.Errorf("invalid time zone offset %q", s)
		}
		if secs == 0 && prefix != "" {
			return time.FixedZone(prefix, 0), nil
		}
		name := offsetText(secs, offsetSpec{minutes: 2, seconds: 1, colon: true}, "Z")
		return time.FixedZone(prefix+name, secs), nil
	}
	if t == "Local" || strings.ContainsAny(t, " \\") || strings.Contains(t, "..") || isAbbreviation(t) {
		return nil, fmt.Errorf("unknown time zone %q (use UTC, GMT, an offset such as UTC+05:30 or a region such as Europe/Paris)", s)
	}
	loc, err := time.LoadLocation(t)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (use UTC, GMT, an offset such as UTC+05:30 or a region such as Europe/Paris)", s)
	}
	return loc, nil
}

// isAbbreviation reports a short all-capitals zone name such as EST or
// AEDT: only UTC and GMT may be given in the short form.
func isAbbreviation(s string) bool {
	if len(s) > 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// parseOffset reads +h, +hh, +hh:mm, +hhmm, +hh:mm:ss, +hhmmss (±18:00 at most).
func parseOffset(s string) (int, bool) {
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	s = s[1:]
	num := func(t string) (int, bool) {
		if len(t) != 2 {
			return 0, false
		}
		n, err := strconv.Atoi(t)
		return n, err == nil && n >= 0
	}
	var h, m, sec int
	var ok bool
	switch {
	case len(s) == 1 && s[0] >= '0' && s[0] <= '9':
		h, ok = int(s[0]-'0'), true
	case len(s) == 2:
		h, ok = num(s)
	case len(s) == 5 && s[2] == ':':
		if h, ok = num(s[:2]); ok {
			m, ok = num(s[3:])
		}
	case len(s) == 4:
		if h, ok = num(s[:2]); ok {
			m, ok = num(s[2:])
		}
	case len(s) == 8 && s[2] == ':' && s[5] == ':':
		if h, ok = num(s[:2]); ok {
			if m, ok = num(s[3:5]); ok {
				sec, ok = num(s[6:])
			}
		}
	case len(s) == 6:
		if h, ok = num(s[:2]); ok {
			if m, ok = num(s[2:4]); ok {
				sec, ok = num(s[4:])
			}
		}
	}
	if !ok || m > 59 || sec > 59 {
		return 0, false
	}
	total := h*3600 + m*60 + sec
	if total > 18*3600 {
		return 0, false
	}
	return sign * total, true
}

type offsetSpec struct {
	minutes int // 0 never, 1 when non-zero, 2 always
	seconds int // same
	colon   bool
}

// offsetText formats an offset as Java's appendOffset does; zero prints as zero.
func offsetText(secs int, sp offsetSpec, zero string) string {
	if secs == 0 {
		return zero
	}
	var b strings.Builder
	if secs < 0 {
		b.WriteByte('-')
		secs = -secs
	} else {
		b.WriteByte('+')
	}
	h, m, s := secs/3600, secs/60%60, secs%60
	b.WriteString(pad2(h))
	if sp.minutes == 2 || (sp.minutes == 1 && (m != 0 || (sp.seconds > 0 && s != 0))) {
		if sp.colon {
			b.WriteByte(':')
		}
		b.WriteString(pad2(m))
		if sp.seconds == 2 || (sp.seconds == 1 && s != 0) {
			if sp.colon {
				b.WriteByte(':')
			}
			b.WriteString(pad2(s))
		}
	}
	return b.String()
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}
