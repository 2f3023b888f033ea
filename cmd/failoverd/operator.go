package main

// The operator subcommands are the "big red button" of DESIGN §4.1: at
// 4 a.m. they must need nothing but this binary, print what changed in
// plain words, and fail with one line that says what to do. They are thin:
// everything that talks to failoverd is internal/client.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/client"
)

const operatorUsage = `usage:
  failoverd status [--json]
  failoverd burst engage|release NAME
  failoverd override set POLICY TARGET (--for DURATION | --until RFC3339) [--reason TEXT] [--force]
  failoverd override clear POLICY
  failoverd events [--since N] [--follow] [--audit] [--json]
  failoverd drill run POLICY --to TARGET [--hold 10m] [--reason TEXT] [--detach]
  failoverd drill list [--policy POLICY] | show ID | abort ID

Every subcommand also takes --endpoint URL[,URL...] (env FAILOVER_ENDPOINT,
default http://127.0.0.1:8080), --token TOKEN (env FAILOVER_TOKEN) and
--ca-cert FILE (env FAILOVER_CA_CERT) for an https endpoint signed by a
private CA.

With several failoverd nodes of one cluster, list them all, separated by
commas: a command asks them in order and moves on from a node that is down
or cut off from the etcd majority (it answers 503), so it works while any
one site is lost. A retried change carries the same Idempotency-Key on every
node, so it is never applied twice.
`

// envCACert names a PEM file, like --ca-cert.
const envCACert = "FAILOVER_CA_CERT"

// Seams for tests: the clock, and retry waits short enough that a test of
// an unreachable endpoint does not sleep.
var (
	opNow          = time.Now
	opRetryWaitMin = 250 * time.Millisecond
	opRetryWaitMax = 2 * time.Second
)

// An operator at the console would rather hear "cannot reach" after a few
// seconds than wait through a provider's longer retry budget.
const (
	opTimeout    = 15 * time.Second
	opMaxRetries = 2
	opEventsPage = 500
	opContinue   = -1 // parse's "no exit code yet"
)

// runOperator runs one operator subcommand and returns its exit code:
// 0 done, 1 failed (one line on stderr), 2 usage error.
func runOperator(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) int {
	switch cmd {
	case "status":
		return opStatus(ctx, args, stdout, stderr)
	case "burst":
		return opBurst(ctx, args, stdout, stderr)
	case "override":
		return opOverride(ctx, args, stdout, stderr)
	case "events":
		return opEvents(ctx, args, stdout, stderr)
	case "drill":
		return opDrill(ctx, args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "failoverd: unknown operator command %q\n\n%s", cmd, operatorUsage)
	return 2
}

// opCmd is one subcommand invocation: its flags and where it writes.
type opCmd struct {
	name     string // "status", "override set", …
	synopsis string
	fs       *flag.FlagSet
	stdout   io.Writer
	stderr   io.Writer

	endpoint, token, caCert string
}

func newOpCmd(name, synopsis string, stdout, stderr io.Writer) *opCmd {
	o := newOfflineCmd(name, synopsis, stdout, stderr)
	// Defaults stay empty and the environment is read after parsing, so
	// that -h never prints the token from FAILOVER_TOKEN.
	o.fs.StringVar(&o.endpoint, "endpoint", "", "failoverd API URL, or the URLs of several nodes separated by commas, tried in order (env FAILOVER_ENDPOINT, default "+client.DefaultEndpoint+")")
	o.fs.StringVar(&o.token, "token", "", "API token (env FAILOVER_TOKEN)")
	o.fs.StringVar(&o.caCert, "ca-cert", "", "PEM file of the CA that signed failoverd's certificate (env FAILOVER_CA_CERT)")
	return o
}

// newOfflineCmd is a subcommand that does not talk to the API (store
// check, store restore): no endpoint or token flags.
func newOfflineCmd(name, synopsis string, stdout, stderr io.Writer) *opCmd {
	o := &opCmd{name: name, synopsis: synopsis, stdout: stdout, stderr: stderr}
	o.fs = flag.NewFlagSet("failoverd "+name, flag.ContinueOnError)
	o.fs.SetOutput(io.Discard) // usage is printed by usageError, once
	return o
}

// parse parses flags anywhere among the arguments ("override set web dc2
// --for 30m"), which the flag package alone does not. It returns the
// positional arguments, and an exit code other than opContinue when the
// command is over (help printed, or a usage error).
func (o *opCmd) parse(args []string) ([]string, int) {
	var pos []string
	for {
		if err := o.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				o.printUsage(o.stdout)
				return nil, 0
			}
			return nil, o.usageError(err.Error())
		}
		rest := o.fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), opContinue
		}
		if len(rest) == 0 {
			return pos, opContinue
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (o *opCmd) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: failoverd %s %s\n\nflags:\n", o.name, o.synopsis)
	o.fs.SetOutput(w)
	o.fs.PrintDefaults()
	o.fs.SetOutput(io.Discard)
}

func (o *opCmd) usageError(msg string) int {
	fmt.Fprintf(o.stderr, "failoverd %s: %s\n", o.name, msg)
	o.printUsage(o.stderr)
	return 2
}

// client builds the API client from flags, then the environment.
func (o *opCmd) client() (*client.Client, int) {
	endpoints, source := o.endpoint, "--endpoint"
	if endpoints == "" {
		endpoints, source = os.Getenv(client.EnvEndpoint), client.EnvEndpoint
	}
	if endpoints == "" {
		endpoints = client.DefaultEndpoint
	}
	list, err := client.SplitEndpoints(endpoints)
	if err != nil {
		return nil, o.failf("%s: %v", source, err)
	}
	o.token = firstNonEmpty(o.token, os.Getenv(client.EnvToken))
	caFile := firstNonEmpty(o.caCert, os.Getenv(envCACert))
	var caPEM []byte
	if caFile != "" {
		var err error
		if caPEM, err = os.ReadFile(caFile); err != nil {
			return nil, o.failf("cannot read the CA certificate (--ca-cert / FAILOVER_CA_CERT): %v", err)
		}
	}
	c, err := client.New(client.Config{
		Endpoints:    list,
		Token:        o.token,
		CACertPEM:    string(caPEM),
		Timeout:      opTimeout,
		MaxRetries:   opMaxRetries,
		RetryWaitMin: opRetryWaitMin,
		RetryWaitMax: opRetryWaitMax,
		UserAgent:    "failoverd-cli/" + version,
	})
	if err != nil {
		return nil, o.fail(err)
	}
	return c, opContinue
}

// fail prints err as one line that says what to do, and returns 1.
func (o *opCmd) fail(err error) int {
	msg := err.Error()
	var ce *client.Error
	if errors.As(err, &ce) {
		switch {
		case ce.Status == http.StatusUnauthorized && o.token == "":
			msg = "failoverd requires a token: set FAILOVER_TOKEN or --token (the --dev server printed one at start-up)"
		case ce.Status == http.StatusUnauthorized:
			msg = "failoverd rejected the token: check FAILOVER_TOKEN or --token (the --dev server printed one at start-up)"
		case ce.Status == http.StatusNotFound:
			msg += ` (run "failoverd status" to list the declared policies and toggles)`
		}
	}
	return o.failf("%s", msg)
}

func (o *opCmd) failf(format string, args ...any) int {
	fmt.Fprintf(o.stderr, "failoverd %s: %s\n", o.name, oneLine(fmt.Sprintf(format, args...)))
	return 1
}

func (o *opCmd) printJSON(v any) int {
	enc := json.NewEncoder(o.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return o.failf("writing output: %v", err)
	}
	return 0
}

// opStatus: failoverd status [--json]
func opStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := newOpCmd("status", "[--json]", stdout, stderr)
	asJSON := o.fs.Bool("json", false, "print the status document as JSON")
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
	st, err := c.Status(ctx)
	if err != nil {
		return o.fail(err)
	}
	if *asJSON {
		return o.printJSON(st)
	}
	writeStatus(stdout, c.Endpoint(), st, opNow())
	writeLastDrills(ctx, stdout, c, opNow())
	return 0
}

// writeStatus renders the one screen an operator needs: what is healthy,
// what serves, which toggles are on. Sections are sorted by name so two
// runs can be compared line by line.
func writeStatus(w io.Writer, endpoint string, st api.Status, now time.Time) {
	fmt.Fprintf(w, "failoverd %s at %s, site %s, up since %s\n", orDash(st.Version), endpoint, orDash(st.Site), stamp(st.Started, now))
	if st.Cluster != nil {
		writeCluster(w, *st.Cluster, now)
	}

	fmt.Fprintln(w, "\nHEALTH CHECKS")
	checks := append([]api.HealthStatus(nil), st.Checks...)
	sort.Slice(checks, func(i, j int) bool { return checks[i].Check < checks[j].Check })
	if len(checks) == 0 {
		fmt.Fprintln(w, "(none declared)")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CHECK\tSTATE\tSINCE\tSITE\tSITE STATE\tLAST ERROR")
		for _, hc := range checks {
			lead := fmt.Sprintf("%s\t%s\t%s", hc.Check, orDash(hc.State), stamp(hc.Since, now))
			if len(hc.Sites) == 0 {
				fmt.Fprintf(tw, "%s\t-\t-\t-\n", lead)
			}
			// One row per probing site; the check's own columns only on
			// the first, so the eye finds each check at once.
			for i, site := range api.SortedKeys(hc.Sites) {
				if i > 0 {
					lead = "\t\t"
				}
				obs := hc.Sites[site]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", lead, site, orDash(obs.State), orDash(oneLine(obs.LastError)))
			}
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nTRAFFIC DECISIONS")
	decisions := append([]api.Decision(nil), st.Decisions...)
	sort.Slice(decisions, func(i, j int) bool { return decisions[i].Policy < decisions[j].Policy })
	if len(decisions) == 0 {
		fmt.Fprintln(w, "(none declared)")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "POLICY\tSERVING\tREASON\tSINCE")
		for _, d := range decisions {
			reason := orDash(oneLine(d.Reason))
			if d.Override != nil {
				reason += fmt.Sprintf(" (override to %s until %s)", d.Override.Target, stamp(d.Override.ExpiresAt, now))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Policy, serving(d.Serving), reason, stamp(d.Since, now))
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nBURST TOGGLES")
	toggles := append([]api.BurstToggle(nil), st.Toggles...)
	sort.Slice(toggles, func(i, j int) bool { return toggles[i].Name < toggles[j].Name })
	if len(toggles) == 0 {
		fmt.Fprintln(w, "(none declared)")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TOGGLE\tENGAGED\tEFFECTIVE\tURL")
		for _, t := range toggles {
			effective := "-"
			if t.Effective != nil {
				effective = yesNo(*t.Effective)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, yesNo(api.Bool(t.Engaged, false)), effective, burstURL(endpoint, t))
		}
		tw.Flush()
	}
	writeOutbox(w, st, now)
}

// writeOutbox renders where publications and webhook deliveries stand;
// nothing when none is declared.
func writeOutbox(w io.Writer, st api.Status, now time.Time) {
	if len(st.Publish) > 0 {
		fmt.Fprintln(w, "\nPUBLISHED RECORDS")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "POLICY\tDESTINATION\tRECORD\tIN SYNC\tLAG\tLAST SUCCESS\tATTEMPTS\tLAST ERROR")
		for _, p := range st.Publish {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", p.Policy, p.Destination, p.Record, yesNo(p.InSync),
				lag(p.LagSeconds), stampPtr(p.LastSuccess, now), p.Attempts, orDash(oneLine(p.LastError)))
		}
		tw.Flush()
	}
	if len(st.Webhooks) > 0 {
		fmt.Fprintln(w, "\nWEBHOOKS")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "WEBHOOK\tDELIVERED\tPENDING\tLAG\tLAST SUCCESS\tATTEMPTS\tDROPPED\tLAST ERROR")
		for _, h := range st.Webhooks {
			fmt.Fprintf(tw, "%s\t#%d\t%d\t%s\t%s\t%d\t%d\t%s\n", h.Webhook, h.DeliveredSeq, h.PendingEvents, lag(h.LagSeconds),
				stampPtr(h.LastSuccess, now), h.Attempts, h.Dropped, orDash(oneLine(h.LastError)))
		}
		tw.Flush()
	}
}

func lag(s float64) string {
	if s <= 0 {
		return "-"
	}
	return (time.Duration(s * float64(time.Second))).Round(time.Millisecond).String()
}

func stampPtr(t *time.Time, now time.Time) string {
	if t == nil {
		return "never"
	}
	return stamp(*t, now)
}

// writeCluster renders the node's role, the leader, the store link and
// every site's freshness: whether its failoverd is alive, so its votes
// count.
func writeCluster(w io.Writer, c api.ClusterStatus, now time.Time) {
	fmt.Fprintln(w, "\nCLUSTER")
	if c.Store.Kind == api.StoreBolt {
		fmt.Fprintf(w, "standalone (store bolt): this node leads\n")
		return
	}
	leader := "none (an election is under way)"
	if c.Leader != nil {
		leader = fmt.Sprintf("%s (node %s) since %s", c.Leader.Site, orDash(c.Leader.Node), stamp(c.Leader.Since, now))
	}
	fmt.Fprintf(w, "role:    %s (node %s)\n", orDash(c.Role), orDash(c.Node))
	fmt.Fprintf(w, "leader:  %s\n", leader)
	contact := "in contact since " + stamp(c.Store.Since, now)
	if !c.Store.InContact {
		contact = "OUT OF CONTACT since " + stamp(c.Store.Since, now) + ": " + orDash(oneLine(c.Store.Reason)) +
			"; serving the last decisions, refusing writes"
	}
	fmt.Fprintf(w, "store:   %s %s, %s, revision %d\n", c.Store.Kind, strings.Join(c.Store.Endpoints, ","), contact, c.Revision)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tNODE\tFRESH\tSTARTED\tURL")
	members := append([]api.ClusterMember(nil), c.Members...)
	sort.SliceStable(members, func(i, j int) bool { return members[i].Site < members[j].Site })
	for _, m := range members {
		fresh := "yes"
		if !m.Fresh {
			fresh = "no"
			if m.LastSeen != nil {
				fresh = "no, last seen " + stamp(*m.LastSeen, now)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.Site, orDash(m.Node), fresh, stamp(m.Started, now), orDash(m.URL))
	}
	tw.Flush()
}

// opBurst: failoverd burst engage|release NAME
func opBurst(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	action := ""
	if len(args) > 0 {
		action = args[0]
	}
	if action != "engage" && action != "release" {
		return newOpCmd("burst", "engage|release NAME", stdout, stderr).
			noAction(stdout, action, "say engage (bring the burst pool into production) or release", "engage or release")
	}
	o := newOpCmd("burst "+action, "NAME", stdout, stderr)
	pos, code := o.parse(args[1:])
	if code != opContinue {
		return code
	}
	if len(pos) != 1 {
		return o.usageError("name exactly one burst toggle (\"failoverd status\" lists them)")
	}
	name := pos[0]
	if !api.ValidName(name) {
		return o.usageError(fmt.Sprintf("%q is not a toggle name: names are lower-case letters, digits and '-'", name))
	}
	c, code := o.client()
	if c == nil {
		return code
	}
	t, err := c.PatchBurst(ctx, name, action == "engage")
	if err != nil {
		return o.fail(err)
	}

	engaged := api.Bool(t.Engaged, action == "engage")
	effective := api.Bool(t.Effective, engaged)
	state := "released"
	if engaged {
		state = "engaged"
	}
	fmt.Fprintf(stdout, "burst toggle %s: %s (effective: %s)\n", name, state, yesNo(effective))
	// Say what the load balancers will see, since that is what moves traffic.
	body, status := orDefault(t.BodyReleased, api.DefaultBodyReleased), http.StatusServiceUnavailable
	if effective {
		body, status = orDefault(t.BodyEngaged, api.DefaultBodyEngaged), http.StatusOK
	}
	fmt.Fprintf(stdout, "%s now answers %d %q\n", burstURL(c.Endpoint(), t), status, body)
	switch {
	case engaged && !effective && t.ExpiresAt != nil && !t.ExpiresAt.After(opNow()):
		fmt.Fprintf(stdout, "note: not effective because the toggle expired at %s; change its expires_at to bring it back\n", stamp(*t.ExpiresAt, opNow()))
	case engaged && !effective:
		fmt.Fprintln(stdout, "note: engaged but not effective because of the toggle's expiry")
	case !engaged && effective:
		fmt.Fprintln(stdout, "note: released but still effective while a schedule window is open")
	}
	return 0
}

// opOverride: failoverd override set|clear …
func opOverride(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	action := ""
	if len(args) > 0 {
		action = args[0]
	}
	switch action {
	case "set":
		return opOverrideSet(ctx, args[1:], stdout, stderr)
	case "clear":
		return opOverrideClear(ctx, args[1:], stdout, stderr)
	}
	return newOpCmd("override", "set POLICY TARGET (--for DURATION | --until RFC3339) [--reason TEXT]\n       failoverd override clear POLICY", stdout, stderr).
		noAction(stdout, action, "say set (pin a policy to a target) or clear", "set or clear")
}

// noAction answers a command group (override, burst, drill) whose first
// argument names none of its actions: help, a missing action (say what to
// say) or an unknown one (list the known ones).
func (o *opCmd) noAction(stdout io.Writer, action, missing, known string) int {
	switch action {
	case "-h", "--help", "help":
		o.printUsage(stdout)
		return 0
	case "":
		return o.usageError(missing)
	}
	return o.usageError(fmt.Sprintf("unknown action %q: use %s", action, known))
}

func opOverrideSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := newOpCmd("override set", "POLICY TARGET (--for DURATION | --until RFC3339) [--reason TEXT] [--force]", stdout, stderr)
	forD := o.fs.Duration("for", 0, "how long the override lasts, e.g. 30m or 2h")
	until := o.fs.String("until", "", "when the override ends, RFC 3339, e.g. 2026-11-22T06:00:00Z")
	reason := o.fs.String("reason", "", "why, for the event log (e.g. a ticket number)")
	force := o.fs.Bool("force", false, "pin the target even if it is down right now (needs --reason)")
	pos, code := o.parse(args)
	if code != opContinue {
		return code
	}
	if len(pos) != 2 {
		return o.usageError("name the POLICY and the TARGET to pin it to")
	}
	policy, target := pos[0], pos[1]
	for _, n := range pos {
		if !api.ValidName(n) {
			return o.usageError(fmt.Sprintf("%q is not a name: names are lower-case letters, digits and '-'", n))
		}
	}
	set := map[string]bool{}
	o.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	now := opNow()
	var expires time.Time
	switch {
	case set["for"] == set["until"]:
		return o.usageError("give exactly one of --for DURATION or --until TIME: an override always expires, so a forgotten one cannot pin traffic forever")
	case set["for"]:
		if *forD <= 0 {
			return o.usageError(fmt.Sprintf("--for %s: the duration must be positive, e.g. 30m", *forD))
		}
		expires = now.Add(*forD)
	default:
		t, err := time.Parse(time.RFC3339, *until)
		if err != nil {
			return o.usageError(fmt.Sprintf("--until %q: use RFC 3339, e.g. %s", *until, now.Add(30*time.Minute).UTC().Format(time.RFC3339)))
		}
		if !t.After(now) {
			return o.usageError(fmt.Sprintf("--until %s is in the past", *until))
		}
		expires = t
	}
	c, code := o.client()
	if c == nil {
		return code
	}
	if *force && strings.TrimSpace(*reason) == "" {
		return o.usageError("--force needs --reason: say why traffic goes to a target that is down, for the event log")
	}
	d, err := c.SetOverride(ctx, policy, api.Override{Target: target, ExpiresAt: expires.UTC(), Reason: *reason, Force: *force})
	if err != nil {
		return o.fail(err)
	}
	writeDecision(stdout, d, opNow())
	return 0
}

func opOverrideClear(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := newOpCmd("override clear", "POLICY", stdout, stderr)
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
	c, code := o.client()
	if c == nil {
		return code
	}
	d, err := c.ClearOverride(ctx, pos[0])
	if err != nil {
		return o.fail(err)
	}
	writeDecision(stdout, d, opNow())
	return 0
}

// writeDecision shows what a policy serves after an override change.
func writeDecision(w io.Writer, d api.Decision, now time.Time) {
	fmt.Fprintf(w, "policy %s now serves %s\n", d.Policy, serving(d.Serving))
	fmt.Fprintf(w, "  reason:   %s\n", orDash(oneLine(d.Reason)))
	fmt.Fprintf(w, "  since:    %s\n", stamp(d.Since, now))
	if o := d.Override; o != nil {
		line := fmt.Sprintf("%s until %s", o.Target, stamp(o.ExpiresAt, now))
		if o.Reason != "" {
			line += fmt.Sprintf(", reason %q", o.Reason)
		}
		if o.SetBy != "" {
			line += ", set by " + o.SetBy
		}
		fmt.Fprintf(w, "  override: %s\n", line)
	} else {
		fmt.Fprintln(w, "  override: none (health checks decide)")
	}
}

// opEvents: failoverd events [--since N] [--follow] [--json]
func opEvents(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o := newOpCmd("events", "[--since N] [--follow] [--audit] [--json]", stdout, stderr)
	since := o.fs.Uint64("since", 0, "show events after this sequence number")
	follow := o.fs.Bool("follow", false, "keep printing new events until interrupted")
	audit := o.fs.Bool("audit", false, "the audit log: every mutation and refused request, kept at least 400 days")
	asJSON := o.fs.Bool("json", false, "print one JSON object per line")
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
	enc := json.NewEncoder(stdout)
	emit := func(e api.Event) error {
		if *asJSON {
			return enc.Encode(e)
		}
		_, err := fmt.Fprintln(stdout, eventLine(e))
		return err
	}

	list, followFn := c.Events, c.FollowEvents
	if *audit {
		list, followFn = c.AuditEvents, c.FollowAuditEvents
	}
	if *follow {
		err := followFn(ctx, *since, emit)
		if ctx.Err() != nil {
			return 0 // interrupted: how --follow normally ends
		}
		return o.fail(err)
	}
	// Page until an empty page rather than trusting a page size: the
	// server may cap the limit lower than asked.
	for last := *since; ; {
		page, err := list(ctx, last, opEventsPage)
		if err != nil {
			return o.fail(err)
		}
		progressed := false
		for _, e := range page {
			if err := emit(e); err != nil {
				return o.failf("writing output: %v", err)
			}
			if e.Seq > last {
				last, progressed = e.Seq, true
			}
		}
		if !progressed {
			return 0
		}
	}
}

// eventLine renders `2026-11-22T04:01:02.123Z  decision  traffic-policies/web  <message>`.
func eventLine(e api.Event) string {
	msg := e.Message
	if msg == "" && e.Type == api.EventAudit {
		msg = strings.TrimSpace(fmt.Sprintf("%s %s by %s", e.Action, e.Outcome, orDash(e.Actor)))
	}
	return fmt.Sprintf("%s  %s  %s  %s", e.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"), orDash(e.Type), orDash(e.Object), oneLine(msg))
}

// serving renders a decision's targets: "dc1 (192.0.2.10, 192.0.2.11)",
// with weights when more than one target shares the traffic.
func serving(ts []api.ServingTarget) string {
	if len(ts) == 0 {
		return "nothing"
	}
	parts := make([]string, 0, len(ts))
	for _, t := range ts {
		s := t.Target
		switch {
		case len(t.Addresses) > 0:
			s += " (" + strings.Join(t.Addresses, ", ") + ")"
		case t.CNAME != "":
			s += " (" + t.CNAME + ")"
		}
		if len(ts) > 1 {
			s += fmt.Sprintf(" weight %d", t.Weight)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func burstURL(endpoint string, t api.BurstToggle) string {
	if t.URL != "" {
		return t.URL
	}
	return endpoint + "/burst/" + t.Name
}

// stamp renders a time with its distance from now, which is what matters
// at 4 a.m.: "2026-11-22T04:01:02Z (3m12s ago)".
func stamp(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	s := t.UTC().Format(time.RFC3339)
	d := now.Sub(t).Truncate(time.Second)
	switch {
	case d > 0:
		return s + " (" + d.String() + " ago)"
	case d < 0:
		return s + " (in " + (-d).String() + ")"
	}
	return s + " (just now)"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string { return orDefault(s, "-") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// oneLine keeps multi-line server text from breaking a table or a log line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
