package health

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/hatopo/terraform-provider-failover/internal/api"
)

// Local failure reasons: the closed label set of
// failover_probe_local_failures_total and the values of Result.Local.
//
// A probe that fails for one of these reasons failed because of this node,
// not because of the endpoint, so it says nothing about the endpoint and
// must never count towards "unhealthy" (DESIGN §4.4: "a probe that fails
// for a local reason is unknown, never a vote for down"). Otherwise a
// failoverd that runs out of file descriptors — e.g. because someone holds
// its API connections open — would fail over healthy production traffic.
const (
	// LocalFileDescriptors: EMFILE (this process) or ENFILE (the system)
	// ran out of file descriptors for the probe's socket.
	LocalFileDescriptors = "file_descriptors"
	// LocalMemory: the kernel had no buffer space or memory for the socket
	// (ENOBUFS, ENOMEM).
	LocalMemory = "memory"
	// LocalAddress: no local port or source address could be assigned
	// (EADDRNOTAVAIL: the ephemeral port range is exhausted towards this
	// destination, or the probes' source address is not on this host;
	// EAGAIN from connect, which Linux returns for the same shortage on
	// some socket families).
	LocalAddress = "local_address"
	// LocalResolver: the check's address is a host name and this node's
	// resolver gave no answer (timeout, SERVFAIL, refused, no reachable
	// server). See localCause for which DNS errors are the endpoint's.
	LocalResolver = "resolver"
	// LocalCanceled: the probe was canceled by this process (shutdown or
	// reconfiguration) before it finished.
	LocalCanceled = "canceled"
	// LocalOverloaded: the probe timed out, but this process noticed its
	// deadline more than overloadLateness late: it was starved of CPU
	// around the deadline, so an answer that had arrived may have gone
	// unread. The endpoint was not given a fair timeout.
	LocalOverloaded = "overloaded"
)

// LocalReasons lists every local failure reason, in a stable order.
var LocalReasons = []string{LocalFileDescriptors, LocalMemory, LocalAddress, LocalResolver, LocalCanceled, LocalOverloaded}

// overloadLateness is how late a probe may notice its own deadline before
// its timeout is blamed on this process rather than the endpoint. A
// process with CPU to spare notices a deadline within a millisecond or
// two; when several thousand probes per second outrun the CPU (make
// bench's P2 at 5,000 checks on 2 shared cores), goroutines run hundreds
// of milliseconds late, and an answer already in the socket loses the
// race against the expired deadline. Counting those as the endpoint's
// failures would fail over every healthy endpoint at once exactly when
// failoverd is overloaded. A timeout noticed on time still counts: a
// blackholed endpoint is detected as soon as fall probes time out while
// this process keeps up.
const overloadLateness = 50 * time.Millisecond

// localCause reports whether err, returned while probing under ctx, is a
// failure of this node rather than of the endpoint; if so it returns the
// reason (one of LocalReasons) and the text operators see in last_error.
//
// Errors are classified by what they wrap (errors.Is on errnos, errors.As
// on *net.DNSError), never by their text, so the classification survives
// any wrapping by net, net/http or crypto/tls.
//
// Which resolver errors are ours: a DNS answer that says the name does not
// exist or has no address (NXDOMAIN, NODATA: DNSError.IsNotFound) is the
// endpoint's failure — its name is gone for every client, not just for us.
// Every other resolver failure (no answer in time, SERVFAIL, a refused or
// unreachable server, a malformed reply, no resolv.conf) means this node
// could not resolve, which says nothing about the endpoint. A SERVFAIL can
// also come from the endpoint's own broken DNS servers; we cannot tell
// the two apart from here, and the rule is that doubt never counts as
// down: every site sees the same SERVFAIL, so such a check reads unknown
// (use an IP address in checks that must fail over on a DNS outage).
//
// A timeout is the endpoint's unless this process noticed it late (see
// overloadLateness). Errors the network path may cause stay the
// endpoint's: connection refused or reset, EHOSTUNREACH/ENETUNREACH (an ICMP error from
// a router looks the same as a missing local route) and EPERM (a firewall
// rule on the path). A site that cannot reach an endpoint votes "down";
// quorum across sites is what separates a path problem from a dead
// endpoint.
func localCause(ctx context.Context, err error) (reason, text string, ok bool) {
	if err == nil {
		return "", "", false
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE, syscall.ENFILE:
			return LocalFileDescriptors, localText(errno.Error()), true
		case syscall.ENOBUFS, syscall.ENOMEM:
			return LocalMemory, localText(errno.Error()), true
		case syscall.EADDRNOTAVAIL:
			return LocalAddress, localText("no local port or source address available (" + errno.Error() + ")"), true
		case syscall.EAGAIN:
			// Only connect: elsewhere EAGAIN is the poller's business and
			// never surfaces, but be exact about what we claim.
			var se *os.SyscallError
			if errors.As(err, &se) && se.Syscall == "connect" {
				return LocalAddress, localText("no local port available (" + errno.Error() + ")"), true
			}
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && !dnsErr.IsNotFound {
		return LocalResolver, localText("resolving " + dnsErr.Name + ": " + dnsErr.Err), true
	}
	// Canceled by us, and not because the probe's own deadline passed
	// (that is a timeout: the endpoint did not answer in time).
	if errors.Is(ctx.Err(), context.Canceled) || (errors.Is(err, context.Canceled) && ctx.Err() == nil) {
		return LocalCanceled, localText("probe canceled by failoverd (shutdown or reconfiguration)"), true
	}
	if dl, ok := ctx.Deadline(); ok && timedOut(ctx, err) {
		if late := time.Since(dl); late > overloadLateness {
			return LocalOverloaded, localText(fmt.Sprintf("this node was too busy: it noticed the probe's deadline %s late",
				late.Round(time.Millisecond))), true
		}
	}
	return "", "", false
}

// timedOut reports whether err (under ctx) is the probe's timeout.
func timedOut(ctx context.Context, err error) bool {
	var ne net.Error
	return errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

// localText is the last_error of a local failure: it says so first, and
// that the endpoint was not judged.
func localText(what string) string {
	return localPrefix + what + " (not a backend failure)"
}

// localPrefix starts the last_error of every local failure.
const localPrefix = "local: "

// LocalFailure reports whether an observation is unknown because its site
// could not probe (a local failure, as another node reports it through the
// store): the site abstains, and says nothing about the endpoint.
func LocalFailure(o api.SiteObservation) bool {
	return o.State == api.StateUnknown && strings.HasPrefix(o.LastError, localPrefix)
}
