package main

// failoverd drill run|list|show|abort: game days from the command line.

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

const drillSynopsis = `run POLICY --to TARGET [--hold 10m] [--reason TEXT] [--detach]
       failoverd drill list [--policy POLICY] [--json]
       failoverd drill show ID [--json]
       failoverd drill abort ID`

// drillPoll is how often `drill run` reads the drill while it waits.
var drillPoll = 500 * time.Millisecond

func opDrill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	action := ""
	if len(args) > 0 {
		action = args[0]
	}
	switch action {
	case "run":
		return opDrillRun(ctx, args[1:], stdout, stderr)
	case "list":
		return opDrillList(ctx, args[1:], stdout, stderr)
	case "show":
		return opDrillShow(ctx, args[1:], stdout, stderr, false)
	case "abort":
		return opDrillShow(ctx, args[1:], stdout, stderr, true)
	}
	return newOpCmd("drill", drillSynopsis, stdout, stderr).noAction(stdout, action, "say run, list, show or abort", "run, list, show or abort")
}

// opDrillRun starts a drill and, unless --detach, follows it to its
// report. Ctrl-C while it runs aborts the drill (automatic routing back).
func opDrillRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := newOpCmd("drill run", "POLICY --to TARGET [--hold 10m] [--reason TEXT] [--detach]", stdout, stderr)
	to := o.fs.String("to", "", "the target to fail over to")
	hold := o.fs.Duration("hold", api.DefaultDrillHold, "how long to stay failed over before failing back")
	reason := o.fs.String("reason", "", "why, for the event log (e.g. the game day's ticket)")
	detach := o.fs.Bool("detach", false, "return once the drill started instead of waiting for its report")
	pos, code := o.parse(args)
	if code != opContinue {
		return code
	}
	if len(pos) != 1 {
		return o.usageError("name exactly one POLICY")
	}
	if !api.ValidName(pos[0]) {
		return o.usageError(fmt.Sprintf("%q is not a policy name: names are lower-case letters, digits and '-'", pos[0]))
	}
	if *to == "" {
		return o.usageError("--to TARGET is required: the target to fail over to")
	}
	c, code := o.client()
	if c == nil {
		return code
	}
	d, err := c.StartDrill(ctx, pos[0], api.DrillRequest{Target: *to, Hold: hold.String(), Reason: *reason})
	if err != nil {
		return o.fail(err)
	}
	fmt.Fprintf(stdout, "drill %s started: %s fails over from %s to %s, holds %s, then fails back\n", d.ID, d.Policy, d.From, d.Target, *hold)
	if *detach {
		fmt.Fprintf(stdout, "follow it with: failoverd drill show %s   (abort: failoverd drill abort %s)\n", d.ID, d.ID)
		return 0
	}
	fmt.Fprintln(stdout, "(Ctrl-C aborts the drill and restores automatic routing)")
	step := d.Step
	for {
		select {
		case <-ctx.Done():
			actx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
			defer cancel()
			fmt.Fprintf(stdout, "aborting drill %s…\n", d.ID)
			ad, err := c.AbortDrill(actx, d.ID)
			if err != nil {
				return o.fail(err)
			}
			writeDrill(stdout, ad, opNow())
			return 1
		case <-time.After(drillPoll):
		}
		cur, err := c.Drill(ctx, d.ID)
		if err != nil {
			if ctx.Err() != nil {
				continue // Ctrl-C: abort above
			}
			return o.fail(err)
		}
		if cur.Step != step {
			step = cur.Step
			fmt.Fprintf(stdout, "%s  %s\n", opNow().UTC().Format("15:04:05.000"), stepWords(cur))
		}
		if cur.State != api.DrillRunning {
			writeDrill(stdout, cur, opNow())
			if cur.State == api.DrillPassed {
				return 0
			}
			return 1
		}
	}
}

func stepWords(d api.Drill) string {
	switch d.Step {
	case api.StepHold:
		return fmt.Sprintf("failed over to %s; holding %s", d.Target, time.Duration(d.HoldSeconds*float64(time.Second)))
	case api.StepFailback:
		return "failing back"
	case api.StepDone:
		return "done: " + d.State
	}
	return d.Step
}

func opDrillList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := newOpCmd("drill list", "[--policy POLICY] [--json]", stdout, stderr)
	policy := o.fs.String("policy", "", "only the drills of this policy")
	asJSON := o.fs.Bool("json", false, "print JSON")
	pos, code := o.parse(args)
	if code != opContinue {
		return code
	}
	if len(pos) > 0 {
		return o.usageError(fmt.Sprintf("unexpected argument %q", pos[0]))
	}
	c, code := o.client()
	if c == nil {
		return code
	}
	ds, err := c.Drills(ctx, *policy)
	if err != nil {
		return o.fail(err)
	}
	if *asJSON {
		return o.printJSON(ds)
	}
	if len(ds) == 0 {
		fmt.Fprintln(stdout, "no drills yet: failoverd drill run POLICY --to TARGET")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPOLICY\tFROM → TO\tSTARTED\tRESULT\tSWITCH\tFAILBACK\tRTO")
	for _, d := range ds {
		r := d.Report
		if r == nil {
			r = &api.DrillReport{}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Policy, d.From, d.Target, stamp(d.StartedAt, opNow()),
			drillResult(d), seconds(r.SwitchSeconds), seconds(r.FailbackSwitchSecs), rto(r.RTOSeconds))
	}
	tw.Flush()
	return 0
}

// opDrillShow shows one drill (abort: after aborting it).
func opDrillShow(ctx context.Context, args []string, stdout, stderr io.Writer, abort bool) int {
	name, syn := "drill show", "ID [--json]"
	if abort {
		name, syn = "drill abort", "ID [--json]"
	}
	o := newOpCmd(name, syn, stdout, stderr)
	asJSON := o.fs.Bool("json", false, "print JSON")
	pos, code := o.parse(args)
	if code != opContinue {
		return code
	}
	if len(pos) != 1 {
		return o.usageError("name exactly one drill ID (failoverd drill list shows them)")
	}
	c, code := o.client()
	if c == nil {
		return code
	}
	var d api.Drill
	var err error
	if abort {
		d, err = c.AbortDrill(ctx, pos[0])
	} else {
		d, err = c.Drill(ctx, pos[0])
	}
	if err != nil {
		return o.fail(err)
	}
	if *asJSON {
		return o.printJSON(d)
	}
	writeDrill(stdout, d, opNow())
	return 0
}

func drillResult(d api.Drill) string {
	if d.State == api.DrillRunning {
		return "running (" + d.Step + ")"
	}
	return strings.ToUpper(d.State)
}

func seconds(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.3fs", *v)
}

// orOld is v, or old for a drill recorded before the report told the DNS
// time apart from the switch time (then they were the same).
func orOld(v, old *float64) *float64 {
	if v != nil {
		return v
	}
	return old
}

func rto(s int) string {
	if s == 0 {
		return "none"
	}
	return fmt.Sprintf("%ds", s)
}

func at(t *time.Time) string {
	if t == nil {
		return "not seen"
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// writeDrill is the drill report an operator files after a game day.
func writeDrill(w io.Writer, d api.Drill, now time.Time) {
	fmt.Fprintf(w, "drill %s: %s\n", d.ID, drillResult(d))
	fmt.Fprintf(w, "  policy:      %s, %s → %s, hold %s\n", d.Policy, d.From, d.Target, time.Duration(d.HoldSeconds*float64(time.Second)))
	fmt.Fprintf(w, "  started:     %s by %s on %s (%s)\n", stamp(d.StartedAt, now), d.StartedBy, d.Node, orDash(d.Reason))
	if d.EndedAt != nil {
		fmt.Fprintf(w, "  ended:       %s\n", stamp(*d.EndedAt, now))
	}
	if r := d.Report; r != nil {
		fmt.Fprintf(w, "  declared:    worst case %.1fs, RTO %s\n", r.WorstCaseSeconds, rto(r.RTOSeconds))
		fmt.Fprintf(w, "  failover:    requested %s, decided %s (%s), DNS answered %s (%s)\n",
			at(&r.FailoverRequestedAt), at(r.FailoverDecidedAt), seconds(r.DecisionSeconds), at(r.FailoverDNSAt), seconds(orOld(r.DNSSeconds, r.SwitchSeconds)))
		if r.FailbackRequestedAt != nil {
			fmt.Fprintf(w, "  failback:    requested %s, decided %s (%s), DNS answered %s (%s), serving %s\n",
				at(r.FailbackRequestedAt), at(r.FailbackDecidedAt), seconds(r.FailbackDecisionSecs), at(r.FailbackDNSAt), seconds(orOld(r.FailbackDNSSecs, r.FailbackSwitchSecs)), orDash(r.FailbackTo))
		}
		for _, p := range r.Publishers {
			state := "followed"
			if !p.Followed {
				state = "DID NOT FOLLOW"
			}
			fmt.Fprintf(w, "  publisher:   %s %s: failover published %s (%s), failback published %s (%s): %s\n",
				p.Destination, p.Record, at(p.FailoverPublishedAt), seconds(p.FailoverSeconds), at(p.FailbackPublishedAt), seconds(p.FailbackSeconds), state)
		}
		if len(r.Publishers) > 0 {
			fmt.Fprintf(w, "  switch:      failover %s, failback %s (until failoverd's DNS and every publisher showed it)\n",
				seconds(r.SwitchSeconds), seconds(r.FailbackSwitchSecs))
		}
		if d.State != api.DrillRunning {
			verdict := "FAIL"
			if r.Pass {
				verdict = "PASS"
			}
			fmt.Fprintf(w, "  verdict:     %s against %s\n", verdict, budgetWords(r))
		}
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  note:        %s\n", n)
		}
	}
	if d.Error != "" {
		fmt.Fprintf(w, "  why:         %s\n", d.Error)
	}
}

func budgetWords(r *api.DrillReport) string {
	if r.RTOSeconds > 0 {
		return fmt.Sprintf("the RTO of %ds", r.RTOSeconds)
	}
	return fmt.Sprintf("the declared worst case of %.1fs (no RTO declared)", r.WorstCaseSeconds)
}

// writeLastDrills adds the last drill of each policy to `failoverd status`.
func writeLastDrills(ctx context.Context, w io.Writer, c *client.Client, now time.Time) {
	ds, err := c.Drills(ctx, "")
	if err != nil {
		return // an older failoverd without drills: nothing to add
	}
	fmt.Fprintln(w, "\nLAST DRILLS")
	seen := map[string]bool{}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	n := 0
	for _, d := range ds { // newest first
		if seen[d.Policy] {
			continue
		}
		seen[d.Policy] = true
		n++
		r := d.Report
		if r == nil {
			r = &api.DrillReport{}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s → %s\t%s\tswitch %s\tRTO %s\n", d.Policy, d.ID, d.From, d.Target, drillResult(d), seconds(r.SwitchSeconds), rto(r.RTOSeconds))
	}
	tw.Flush()
	if n == 0 {
		fmt.Fprintln(w, "(none yet: failoverd drill run POLICY --to TARGET)")
	}
}
