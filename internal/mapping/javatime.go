package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/integrationd/integrationd/internal/value"
)

// EPOCH_TO_HUMAN_READABLE_TIME formats epoch milliseconds with a Java
// DateTimeFormatter pattern in English, in a zone given as UTC, GMT, an
// offset (UTC+05:30, GMT-8, +05:30) or an IANA name (Europe/Paris).

type epochPrepared struct {
	f   *javaFormat
	loc *time.Location
}

func epochPrep(c *call) error {
	p := &epochPrepared{}
	if c.isConst[0] {
		f, err := compileJavaPattern(c.consts[0].Str())
		if err != nil {
			return err
		}
		p.f = f
	}
	if len(c.isConst) < 2 {
		p.loc = time.UTC
	} else if c.isConst[1] {
		loc, err := parseZone(c.consts[1].Str())
		if err != nil {
			return err
		}
		p.loc = loc
	}
	c.prep = p
	return nil
}

func epochToHuman(c *call, _ *evalCtx, in value.Value, a []value.Value) (value.Value, error) {
	p, _ := c.prep.(*epochPrepared)
	f, loc := p.f, p.loc
	var err error
	if f == nil {
		if f, err = compileJavaPattern(a[0].Str()); err != nil {
			return value.Value{}, err
		}
	}
	if loc == nil {
		if loc, err = parseZone(a[1].Str()); err != nil {
			return value.Value{}, err
		}
	}
	return value.Str(f.format(time.UnixMilli(in.Int()).In(loc))), nil
}

// padN writes n with at least width digits (sign first).
func padN(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

// javaFormat is a compiled Java DateTimeFormatter pattern.
type javaFormat struct {
	items []jtItem
}

type jtItem struct {
	lit    string
	letter byte
	count  int
}

// maxCount is the largest run of each supported pattern letter.
var maxCount = map[byte]int{
	'G': 5, 'u': 19, 'y': 19, 'Y': 19, 'Q': 5, 'q': 5, 'M': 5, 'L': 5, 'w': 2, 'W': 1, 'd': 2, 'D': 3,
	'E': 5, 'e': 5, 'c': 5, 'a': 1, 'h': 2, 'K': 2, 'k': 2, 'H': 2, 'm': 2, 's': 2, 'S': 9, 'A': 19,
	'n': 19, 'N': 19, 'V': 2, 'z': 4, 'O': 4, 'X': 5, 'x': 5, 'Z': 5,
}

func compileJavaPattern(p string) (*javaFormat, error) {
	f := &javaFormat{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.items = append(f.items, jtItem{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			end := i + 1
			for {
				j := strings.IndexByte(p[end:], '\'')
				if j < 0 {
					return nil, fmt.Errorf("pattern %q: unterminated quote", p)
				}
				end += j
				if end+1 < len(p) && p[end+1] == '\'' { // '' inside quotes
					end += 2
					continue
				}
				break
			}
			if end == i+1 {
				lit.WriteByte('\'') // '' outside quotes
			} else {
				lit.WriteString(strings.ReplaceAll(p[i+1:end], "''", "'"))
			}
			i = end + 1
		case c == '[' || c == ']':
			i++ // optional sections always print
		case c == '{' || c == '}' || c == '#':
			return nil, fmt.Errorf("pattern %q: reserved character %q", p, c)
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			n := j - i
			max, ok := maxCount[c]
			if !ok {
				return nil, fmt.Errorf("pattern %q: unsupported pattern letter %q", p, c)
			}
			if n > max || (c == 'V' && n != 2) || (c == 'O' && n != 1 && n != 4) {
				return nil, fmt.Errorf("pattern %q: wrong number of pattern letters: %s", p, p[i:j])
			}
			flush()
			f.items = append(f.items, jtItem{letter: c, count: n})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return f, nil
}

var (
	monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

func textStyle(full string, count int) string {
	switch {
	case count <= 3:
		return full[:3]
	case count == 4:
		return full
	}
	return full[:1]
}

// weekBased returns the week-based year and week of t for the US locale
// (weeks start on Sunday; week 1 contains January 1st).
func weekBased(t time.Time) (year, week int) {
	sat := t.AddDate(0, 0, 6-int(t.Weekday()))
	return sat.Year(), (sat.YearDay()-1)/7 + 1
}

func (f *javaFormat) format(t time.Time) string {
	var b strings.Builder
	for _, it := range f.items {
		if it.letter == 0 {
			b.WriteString(it.lit)
			continue
		}
		n := it.count
		switch it.letter {
		case 'G':
			era := "Anno Domini"
			if t.Year() <= 0 {
				era = "Before Christ"
			}
			switch {
			case n <= 3 && era[0] == 'A':
				b.WriteString("AD")
			case n <= 3:
				b.WriteString("BC")
			case n == 4:
				b.WriteString(era)
			default:
				b.WriteString(era[:1])
			}
		case 'y', 'u', 'Y':
			y := int64(t.Year())
			switch it.letter {
			case 'y':
				if y <= 0 {
					y = 1 - y
				}
			case 'Y':
				wy, _ := weekBased(t)
				y = int64(wy)
			}
			if n == 2 {
				yy := y % 100
				if yy < 0 {
					yy = -yy
				}
				b.WriteString(padN(yy, 2))
				continue
			}
			if n >= 4 && y >= 10000 && n < 19 {
				lim := int64(1)
				for i := 0; i < n; i++ {
					lim *= 10
				}
				if y >= lim {
					b.WriteByte('+')
				}
			}
			b.WriteString(padN(y, n))
		case 'M', 'L':
			if n <= 2 {
				b.WriteString(padN(int64(t.Month()), n))
			} else {
				b.WriteString(textStyle(monthNames[t.Month()-1], n))
			}
		case 'Q', 'q':
			q := (int(t.Month())-1)/3 + 1
			switch n {
			case 1, 5:
				b.WriteString(strconv.Itoa(q))
			case 2:
				b.WriteString(pad2(q))
			case 3:
				b.WriteString("Q" + strconv.Itoa(q))
			default:
				b.WriteString([...]string{"1st", "2nd", "3rd", "4th"}[q-1] + " quarter")
			}
		case 'w':
			_, w := weekBased(t)
			b.WriteString(padN(int64(w), n))
		case 'W':
			first := t.AddDate(0, 0, 1-t.Day()).Weekday()
			b.WriteString(strconv.Itoa((t.Day()-1+int(first))/7 + 1))
		case 'd':
			b.WriteString(padN(int64(t.Day()), n))
		case 'D':
			b.WriteString(padN(int64(t.YearDay()), n))
		case 'E':
			b.WriteString(textStyle(dayNames[t.Weekday()], n))
		case 'e', 'c':
			if n <= 2 {
				b.WriteString(padN(int64(t.Weekday())+1, n))
			} else {
				b.WriteString(textStyle(dayNames[t.Weekday()], n))
			}
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(padN(int64(h), n))
		case 'K':
			b.WriteString(padN(int64(t.Hour()%12), n))
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			b.WriteString(padN(int64(h), n))
		case 'H':
			b.WriteString(padN(int64(t.Hour()), n))
		case 'm':
			b.WriteString(padN(int64(t.Minute()), n))
		case 's':
			b.WriteString(padN(int64(t.Second()), n))
		case 'S':
			frac := int64(t.Nanosecond())
			for i := n; i < 9; i++ {
				frac /= 10
			}
			b.WriteString(padN(frac, n))
		case 'A':
			b.WriteString(padN(int64(((t.Hour()*60+t.Minute())*60+t.Second())*1000+t.Nanosecond()/1e6), n))
		case 'n':
			b.WriteString(padN(int64(t.Nanosecond()), n))
		case 'N':
			b.WriteString(padN(int64((t.Hour()*60+t.Minute())*60+t.Second())*1e9+int64(t.Nanosecond()), n))
		case 'V':
			b.WriteString(t.Location().String())
		case 'z':
			name, off := t.Zone()
			if n == 4 {
				b.WriteString(fullZoneName(name, off))
			} else {
				b.WriteString(name)
			}
		case 'O':
			_, off := t.Zone()
			if off == 0 {
				b.WriteString("GMT")
			} else if n == 4 {
				b.WriteString("GMT" + offsetText(off, offsetSpec{minutes: 2, seconds: 1, colon: true}, ""))
			} else {
				b.WriteString("GMT" + shortOffset(off))
			}
		case 'X', 'x':
			_, off := t.Zone()
			zero := "Z"
			if it.letter == 'x' {
				zero = [...]string{"+00", "+0000", "+00:00", "+0000", "+00:00"}[n-1]
			}
			sp := [...]offsetSpec{{minutes: 1}, {minutes: 2}, {minutes: 2, colon: true}, {minutes: 2, seconds: 1}, {minutes: 2, seconds: 1, colon: true}}[n-1]
			b.WriteString(offsetText(off, sp, zero))
		case 'Z':
			_, off := t.Zone()
			switch {
			case n <= 3:
				b.WriteString(offsetText(off, offsetSpec{minutes: 2}, "+0000"))
			case n == 4:
				if off == 0 {
					b.WriteString("GMT")
				} else {
					b.WriteString("GMT" + offsetText(off, offsetSpec{minutes: 2, seconds: 1, colon: true}, ""))
				}
			default:
				b.WriteString(offsetText(off, offsetSpec{minutes: 2, seconds: 1, colon: true}, "Z"))
			}
		}
	}
	return b.String()
}

// shortOffset is the localized short offset of pattern O: +8, +5:30.
func shortOffset(secs int) string {
	sign := "+"
	if secs < 0 {
		sign, secs = "-", -secs
	}
	s := sign + strconv.Itoa(secs/3600)
	if m, sec := secs/60%60, secs%60; m != 0 || sec != 0 {
		s += ":" + pad2(m)
		if sec != 0 {
			s += ":" + pad2(sec)
		}
	}
	return s
}

// fullZoneName is pattern zzzz: the full English name of the common zones,
// else the abbreviation.
func fullZoneName(abbr string, off int) string {
	switch abbr {
	case "UTC", "Z", "UT":
		return "Coordinated Universal Time"
	case "GMT":
		if off == 0 {
			return "Greenwich Mean Time"
		}
	}
	if n, ok := zoneFullNames[abbr]; ok {
		return n
	}
	return abbr
}

var zoneFullNames = map[string]string{
	"PST": "Pacific Standard Time", "PDT": "Pacific Daylight Time",
	"MST": "Mountain Standard Time", "MDT": "Mountain Daylight Time",
	"CST": "Central Standard Time", "CDT": "Central Daylight Time",
	"EST": "Eastern Standard Time", "EDT": "Eastern Daylight Time",
	"BST": "British Summer Time", "CET": "Central European Standard Time", "CEST": "Central European Summer Time",
	"IST": "India Standard Time", "JST": "Japan Standard Time",
	"AEST": "Australian Eastern Standard Time", "AEDT": "Australian Eastern Daylight Time",
}
