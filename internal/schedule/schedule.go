// Package schedule parses and evaluates the two ways a recurring game day
// is declared (drill_schedule on a traffic policy): a cron expression of
// five fields, and RFC 3339 windows "START/END". It is pure, so the same
// code checks a plan in the provider and runs the schedule in failoverd.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed five-field cron expression: minute hour day-of-month
// month day-of-week, evaluated in UTC. Each field is *, a number, a range
// a-b, a step */n or a-b/n, or a comma-separated list of those; in
// day-of-week 0 and 7 are Sunday. As in cron, when both day-of-month and
// day-of-week are restricted a day matching either runs.
type Cron struct {
	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domStar, dowStar              bool
}

type field struct {
	name     string
	min, max int
}

var fields = [5]field{{"minute", 0, 59}, {"hour", 0, 23}, {"day of month", 1, 31}, {"month", 1, 12}, {"day of week", 0, 7}}

// ParseCron parses expr; the error names the field at fault and the fix.
func ParseCron(expr string) (Cron, error) {
	parts := strings.Fields(expr)
	if len(parts) != 5 {
		return Cron{}, fmt.Errorf("%q has %d fields: write five, minute hour day-of-month month day-of-week (UTC), e.g. \"0 3 * * 2\" for Tuesdays at 03:00", clip(expr), len(parts))
	}
	var bits [5]uint64
	for i, p := range parts {
		b, err := parseField(p, fields[i])
		if err != nil {
			return Cron{}, err
		}
		bits[i] = b
	}
	c := Cron{minute: bits[0], hour: bits[1], dom: bits[2], month: bits[3], dow: bits[4],
		domStar: parts[2] == "*", dowStar: parts[4] == "*"}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1 // 7 is Sunday too
	}
	if !c.canRun() {
		return Cron{}, fmt.Errorf("%q never runs (no month has that day): pick a day every chosen month has", clip(expr))
	}
	return c, nil
}

func parseField(s string, f field) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(item, "/")
		lo, hi := f.min, f.max
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if lo, err = number(a, f); err != nil {
				return 0, err
			}
			if hi, err = number(b, f); err != nil {
				return 0, err
			}
			if lo > hi {
				return 0, fmt.Errorf("%s: range %q runs backwards: write the smaller value first", f.name, rng)
			}
		default:
			n, err := number(rng, f)
			if err != nil {
				return 0, err
			}
			lo, hi = n, n
			if hasStep {
				hi = f.max // "5/15" means from 5 every 15
			}
		}
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepS)
			if err != nil || n < 1 || n > f.max+1 {
				return 0, fmt.Errorf("%s: step %q must be a whole number from 1 to %d", f.name, clip(stepS), f.max+1)
			}
			step = n
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func number(s string, f field) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return 0, fmt.Errorf("%s: %q must be *, a whole number from %d to %d, a range a-b, a step */n, or a list of those", f.name, clip(s), f.min, f.max)
	}
	return n, nil
}

// canRun: some day of some chosen month matches (rejects "0 0 31 2 *").
func (c Cron) canRun() bool {
	if !c.domStar && !c.dowStar {
		return true // any weekday in the chosen months will do
	}
	if !c.domStar {
		days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
		for m := 1; m <= 12; m++ {
			if c.month&(1<<uint(m)) == 0 {
				continue
			}
			for d := 1; d <= days[m]; d++ {
				if c.dom&(1<<uint(d)) != 0 {
					return true
				}
			}
		}
		return false
	}
	return true
}

func (c Cron) dayMatches(t time.Time) bool {
	if c.month&(1<<uint(t.Month())) == 0 {
		return false
	}
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case c.domStar && c.dowStar:
		return true
	case c.domStar:
		return dow
	case c.dowStar:
		return dom
	}
	return dom || dow
}

// maxSearchDays bounds Next: a Feb 29 expression runs every four years
// (eight across a skipped leap year like 2100).
const maxSearchDays = 8*366 + 1

// Next is the first time after t (to the minute, UTC) the expression
// runs, and false when there is none within maxSearchDays.
func (c Cron) Next(t time.Time) (time.Time, bool) {
	t = t.UTC().Truncate(time.Minute).Add(time.Minute)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	for i := 0; i < maxSearchDays; i++ {
		if c.dayMatches(day) {
			for h := 0; h < 24; h++ {
				if c.hour&(1<<uint(h)) == 0 {
					continue
				}
				for m := 0; m < 60; m++ {
					if c.minute&(1<<uint(m)) == 0 {
						continue
					}
					at := day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
					if !at.Before(t) {
						return at, true
					}
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}, false
}

// Window is one declared game day: from Start to End (the hold).
type Window struct {
	Start, End time.Time
}

// MaxWindow bounds a window's length (a drill's hold).
const MaxWindow = 24 * time.Hour

// ParseWindow parses "START/END", both RFC 3339, END after START and at
// most MaxWindow later.
func ParseWindow(s string) (Window, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return Window{}, fmt.Errorf("%q is not a window: write START/END in RFC 3339, e.g. \"2026-12-12T03:00:00Z/2026-12-12T03:30:00Z\"", clip(s))
	}
	start, err := time.Parse(time.RFC3339, a)
	if err != nil {
		return Window{}, fmt.Errorf("start %q is not RFC 3339: write e.g. 2026-12-12T03:00:00Z", clip(a))
	}
	end, err := time.Parse(time.RFC3339, b)
	if err != nil {
		return Window{}, fmt.Errorf("end %q is not RFC 3339: write e.g. 2026-12-12T03:30:00Z", clip(b))
	}
	switch {
	case !end.After(start):
		return Window{}, fmt.Errorf("%q ends before it starts: the end is when the drill fails back", clip(s))
	case end.Sub(start) > MaxWindow:
		return Window{}, fmt.Errorf("%q is longer than %s: a drill is a game day, not a migration", clip(s), MaxWindow)
	}
	return Window{Start: start.UTC(), End: end.UTC()}, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
