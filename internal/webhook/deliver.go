package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hatopo/terraform-provider-failover/internal/api"
	"github.com/hatopo/terraform-provider-failover/internal/keyed"
	"github.com/hatopo/terraform-provider-failover/internal/publish"
	"github.com/hatopo/terraform-provider-failover/internal/store"
)

// Defaults of Options (see the accessor methods).
const (
	// DefaultMaxPending bounds a webhook's queue: the events between its
	// cursor and the head of the log (see the package's overflow policy).
	DefaultMaxPending = 10000
	// DefaultTimeout bounds one HTTP request.
	DefaultTimeout = 10 * time.Second
	// DefaultResync is how often the dispatcher looks at the declared
	// webhooks and the leadership without being woken.
	DefaultResync = time.Second
	// Between rounds of go-retryablehttp's own retries, a failing
	// receiver is retried with backoff from minBackoff to maxBackoff, for
	// as long as it fails: delivery is at least once.
	minBackoff = 500 * time.Millisecond
	maxBackoff = 5 * time.Second
	// readBatch is how many events a worker reads from the log at once.
	readBatch = 100
)

// CursorKey is the key, in publish.BucketOutbox, of a webhook's delivery
// cursor and status (an api.WebhookStatus).
func CursorKey(name string) string { return "webhook/" + name }

// Options configures a Dispatcher.
type Options struct {
	Store store.Store
	// Leading reports whether this node leads: only the leader delivers.
	Leading func() bool
	// Webhooks lists the declared webhooks.
	Webhooks func() []api.Webhook
	// Write queues a leader write into publish.BucketOutbox.
	Write func(key string, value []byte)
	// Emit records a runtime event (an overflow).
	Emit func(api.Event)
	// WaitEvents returns a channel closed when newer events are durable.
	WaitEvents func() (<-chan struct{}, uint64)
	Secrets    Secrets
	MaxPending int
	Timeout    time.Duration
	Resync     time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

func (o Options) maxPending() int {
	if o.MaxPending > 0 {
		return o.MaxPending
	}
	return DefaultMaxPending
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o Options) resync() time.Duration {
	if o.Resync > 0 {
		return o.Resync
	}
	return DefaultResync
}

// Dispatcher runs one delivery worker per enabled webhook, on the leader.
type Dispatcher struct {
	o       Options
	log     *slog.Logger
	now     func() time.Time
	client  *retryablehttp.Client
	metrics *metrics

	mu      sync.Mutex
	workers map[string]*worker
}

// New returns a Dispatcher; Run drives it.
func New(o Options) *Dispatcher {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Timeout: o.timeout()}
	c.RetryMax = 2
	c.RetryWaitMin, c.RetryWaitMax = 100*time.Millisecond, time.Second
	c.Logger = nil // attempts are logged by the worker, with the webhook's name
	// Any answer but a 2xx is a failure to retry: a receiver that answers
	// 4xx (a bad deployment, a rotated secret) is fixed and then gets the
	// events it missed, rather than losing them.
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	d := &Dispatcher{o: o, log: o.Logger, now: o.Now, client: c, workers: map[string]*worker{}}
	d.metrics = newMetrics(d, o.Registerer)
	return d
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	t := time.NewTicker(d.o.resync())
	defer t.Stop()
	defer d.stopAll()
	for {
		d.sync()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *Dispatcher) sync() {
	if !d.o.Leading() {
		d.stopAll()
		return
	}
	want := map[string]api.Webhook{}
	for _, w := range d.o.Webhooks() {
		if api.Bool(w.Enabled, api.DefaultWebhookEnabled) {
			want[w.Name] = w
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	keyed.Reconcile(d.workers, want,
		func(_ string, w api.Webhook) *worker { return d.newWorker(w) },
		(*worker).run, (*worker).setHook, (*worker).close)
}

func (d *Dispatcher) stopAll() { keyed.StopAll(&d.mu, &d.workers, (*worker).close) }

type worker struct {
	d      *Dispatcher
	name   string
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	hook api.Webhook
	st   api.WebhookStatus
	// oldest is the time of the event being delivered (lag).
	oldest time.Time
}

func (d *Dispatcher) newWorker(w api.Webhook) *worker {
	ctx, cancel := context.WithCancel(context.Background())
	return &worker{d: d, name: w.Name, ctx: ctx, cancel: cancel, done: make(chan struct{}), hook: w}
}

func (w *worker) setHook(h api.Webhook) {
	w.mu.Lock()
	w.hook = h
	w.mu.Unlock()
}

func (w *worker) close() {
	w.cancel()
	<-w.done
}

func (w *worker) snapshot() (api.Webhook, api.WebhookStatus, time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hook, w.st, w.oldest
}

// save records the status and cursor (durably, through the leader's
// lane: a crash before it lands redelivers, never skips).
func (w *worker) save(st api.WebhookStatus) {
	w.mu.Lock()
	w.st = st
	w.mu.Unlock()
	b, _ := json.Marshal(st)
	w.d.o.Write(CursorKey(w.name), b)
}

// start loads the stored cursor; a webhook without one starts after the
// newest event, so a new webhook is not flooded with history.
func (w *worker) start() error {
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	defer cancel()
	b, err := w.d.o.Store.Get(ctx, publish.BucketOutbox, CursorKey(w.name))
	switch {
	case err == nil:
		var st api.WebhookStatus
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("webhook %s: unreadable cursor: %w", w.name, err)
		}
		w.mu.Lock()
		w.st = st
		w.mu.Unlock()
		return nil
	case errors.Is(err, store.ErrNotFound):
		last, err := w.d.o.Store.LastSeq(ctx)
		if err != nil {
			return err
		}
		w.save(api.WebhookStatus{Webhook: w.name, DeliveredSeq: last})
		return nil
	}
	return err
}

func (w *worker) run() {
	defer close(w.done)
	for w.ctx.Err() == nil {
		if err := w.start(); err != nil {
			w.d.log.Warn("webhook: cannot read its cursor; retrying", "webhook", w.name, "err", err)
			w.sleep(time.Second)
			continue
		}
		break
	}
	for w.ctx.Err() == nil {
		ch, _ := w.d.o.WaitEvents()
		n, err := w.round()
		if err != nil {
			if w.ctx.Err() == nil {
				w.d.log.Warn("webhook: cannot read the event log; retrying", "webhook", w.name, "err", err)
			}
			w.sleep(time.Second)
			continue
		}
		if n == 0 {
			select {
			case <-w.ctx.Done():
			case <-ch:
			case <-time.After(w.d.o.resync()):
				// Events appended by another node reach this one's
				// notifier through the feed; the timer is a backstop.
			}
		}
	}
}

func (w *worker) sleep(d time.Duration) {
	select {
	case <-w.ctx.Done():
	case <-time.After(d):
	}
}

// round delivers the events after the cursor, oldest first; it returns
// how many events it went past.
func (w *worker) round() (int, error) {
	ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
	last, err := w.d.o.Store.LastSeq(ctx)
	cancel()
	if err != nil {
		return 0, err
	}
	_, st, _ := w.snapshot()
	if last > st.DeliveredSeq && last-st.DeliveredSeq > uint64(w.d.o.maxPending()) {
		w.overflow(st, last-uint64(w.d.o.maxPending()), "more than the queue's bound of events wait for the receiver")
		_, st, _ = w.snapshot()
	}
	ctx, cancel = context.WithTimeout(w.ctx, 5*time.Second)
	raw, err := w.d.o.Store.Events(ctx, st.DeliveredSeq, readBatch)
	cancel()
	if err != nil || len(raw) == 0 {
		return 0, err
	}
	for _, b := range raw {
		var ev api.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return 0, fmt.Errorf("event after %d: %w", st.DeliveredSeq, err)
		}
		if ev.Seq > st.DeliveredSeq+1 {
			// The log's retention pruned events this receiver never got.
			w.overflow(st, ev.Seq-1, "the event log pruned events the receiver had not received")
		}
		hook, _, _ := w.snapshot()
		if Matches(hook, ev.Type) {
			if !w.deliver(hook, ev, b) {
				return 0, nil // stopped
			}
		}
		_, st, _ = w.snapshot()
		st.DeliveredSeq = ev.Seq
		if Matches(hook, ev.Type) {
			w.save(st)
		} else {
			w.mu.Lock()
			w.st = st // not worth a write: a redelivery skips it again
			w.mu.Unlock()
		}
	}
	// Persist the cursor past skipped events once per batch.
	w.save(st)
	return len(raw), nil
}

// overflow skips the events up to seq (oldest first), counts them and
// says so.
func (w *worker) overflow(st api.WebhookStatus, seq uint64, why string) {
	n := seq - st.DeliveredSeq
	st.DeliveredSeq = seq
	st.Dropped += n
	w.save(st)
	w.d.metrics.dropped.WithLabelValues(w.name).Add(float64(n))
	w.d.log.Error("webhook: events dropped", "webhook", w.name, "dropped", n, "up_to_seq", seq, "reason", why)
	w.d.o.Emit(api.Event{Time: w.d.now(), Type: api.EventPublish, Object: api.ObjectPath(api.KindWebhook, w.name),
		Message: fmt.Sprintf("webhook %s: %d events up to #%d were dropped, oldest first: %s (bound %d)", w.name, n, seq, why, w.d.o.maxPending())})
}

// deliver posts one event until the receiver acknowledges it with a 2xx,
// backing off between rounds; it returns false when the worker stops.
func (w *worker) deliver(hook api.Webhook, ev api.Event, body []byte) bool {
	w.mu.Lock()
	w.oldest = ev.Time
	w.mu.Unlock()
	backoff := minBackoff
	for {
		hook, st, _ := w.snapshot()
		err := w.post(hook, ev, body)
		if w.ctx.Err() != nil {
			return false
		}
		now := w.d.now()
		st.LastAttempt = &now
		if err == nil {
			st.LastSuccess, st.Attempts, st.LastError = &now, 0, ""
			w.mu.Lock()
			w.st, w.oldest = st, time.Time{}
			w.mu.Unlock()
			w.d.metrics.deliveries.WithLabelValues(w.name, "success").Inc()
			w.d.metrics.latency.Observe(now.Sub(ev.Time).Seconds())
			return true
		}
		st.Attempts++
		st.LastError = err.Error()
		w.d.metrics.deliveries.WithLabelValues(w.name, "failure").Inc()
		if st.Attempts == 1 {
			w.d.log.Warn("webhook delivery failed; retrying with backoff until the receiver takes it", "webhook", w.name, "seq", ev.Seq, "err", err)
		}
		w.save(st)
		w.sleep(backoff)
		backoff = min(2*backoff, maxBackoff)
	}
}

// post sends one event, signed now.
func (w *worker) post(hook api.Webhook, ev api.Event, body []byte) error {
	secret, ok := w.d.o.Secrets[hook.Secret]
	if !ok {
		return fmt.Errorf("secret %q is not in failoverd's --webhook-secrets file (%d secrets loaded): add a line \"%s <secret>\" and restart failoverd", hook.Secret, len(w.d.o.Secrets), hook.Secret)
	}
	req, err := retryablehttp.NewRequestWithContext(w.ctx, http.MethodPost, hook.URL, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "failoverd-webhook/1")
	req.Header.Set(EventIDHeader, strconv.FormatUint(ev.Seq, 10))
	req.Header.Set(EventTypeHeader, ev.Type)
	// Signed per round (retryablehttp reuses it for its own few quick
	// retries, well within the receiver's tolerance).
	req.Header.Set(SignatureHeader, Sign(secret, w.d.now(), body))
	resp, err := w.d.client.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", hook.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST %s: the receiver answered %s: %s", hook.URL, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// ReadStatus is where delivery to webhook name stands, from the store
// (any node can answer it).
func ReadStatus(ctx context.Context, st store.Store, name string, now time.Time) (api.WebhookStatus, error) {
	out := api.WebhookStatus{Webhook: name}
	b, err := st.Get(ctx, publish.BucketOutbox, CursorKey(name))
	if errors.Is(err, store.ErrNotFound) {
		return out, nil // not started yet
	}
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("webhook %s: unreadable cursor: %w", name, err)
	}
	last, err := st.LastSeq(ctx)
	if err != nil {
		return out, err
	}
	if last > out.DeliveredSeq {
		out.PendingEvents = int(min(last-out.DeliveredSeq, 1<<31-1))
		if next, err := st.Events(ctx, out.DeliveredSeq, 1); err == nil && len(next) == 1 {
			var ev api.Event
			if json.Unmarshal(next[0], &ev) == nil {
				out.LagSeconds = max(now.Sub(ev.Time).Seconds(), 0)
			}
		}
	}
	return out, nil
}
