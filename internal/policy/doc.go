// Package policy is the traffic-policy evaluator and the policy validator.
//
// Evaluate is a pure state machine: given a policy, the health of its
// targets, the burst toggle's effective state, an optional operator
// override, the current time and the State it returned last time, it says
// which targets serve, why, and when to call it again. It does no I/O and
// never reads the clock, so failoverd, the provider and the tests all get
// the same answer for the same input. Validate is the one source of truth
// for the structural rules of a policy, run by the provider at plan time and
// by failoverd on every write.
//
// # Health and timers
//
// A target is up unless one of its health checks is unhealthy ("unknown"
// counts as up, so adding a check never moves traffic); a target without a
// health entry is up since forever. Every delay is measured from
// TargetHealth.Since, the instant the target's health last changed, not
// from when the evaluator happened to look. A failoverd restart therefore
// resumes every timer exactly where it was: re-evaluating with the persisted
// State and the restored health gives the same answer, so a restart never
// causes a failover by itself. A flap restarts the clock: a target that goes
// down and comes back must again be up for the full failback delay.
//
// Result.NextWake is the earliest instant at which the answer may change
// without new input (a delay elapsing, an override expiring). The caller
// re-evaluates at that instant and on every health, toggle, override or
// policy change.
//
// # active-passive
//
// Targets that are enabled and not burst_only are ranked by priority (1 is
// preferred) and, for equal priorities, by target name. Exactly one of them,
// the active target (State.Active), serves:
//
//   - With no active target (the first evaluation, after an override ends,
//     or coming out of all-down) the best up target is chosen at once: there
//     is nothing to protect from a flap, and any answer beats none.
//   - The active target is left only after it has been down for
//     failover_delay_seconds (0 = at the first unhealthy transition). The
//     replacement is the best target that is up right now; it is not required
//     to have been up for the failback delay, because a healthy target beats a
//     dead one. If the active target is disabled, made burst_only or removed
//     from the policy, it is left at once.
//   - With failback = "auto", traffic returns to a more preferred target once
//     that target has been up for failback_delay_seconds, even if the active
//     target is still healthy. With failback = "manual" it never returns by
//     itself: the active target keeps serving while it is up (the targets
//     waiting for a failback are listed in State.Held). If the active target
//     fails, the best up target is chosen, which may be the preferred one.
//   - While the policy's burst toggle is engaged, every burst_only target
//     in rotation (see below) serves as well ("Prod to Prod+"). burst_only
//     targets are never chosen as the active target.
//
// Serving lists the active target first, then burst targets by name.
//
// # active-active and burst targets
//
// Every target has a rotation state (State.InRotation / State.OutOfRotation).
// A target in rotation leaves after it has been down for
// failover_delay_seconds; a target out of rotation returns after it has been
// up for failback_delay_seconds. With failback = "manual", a target that left
// does not return by itself: it is held (State.Held) until the holds are
// released. A target the evaluator has never seen joins at once if it is up
// (first evaluation, target added to the policy); one that is down when first
// seen returns like any other after the failback delay.
//
// Rotation is about health only. Whether a target in rotation actually
// serves also depends on the configuration: it must be enabled, have a weight
// above 0, and, if burst_only, the burst toggle must be engaged. Engaging the
// toggle or re-enabling a target therefore takes effect at once, without
// waiting for a failback delay. Serving is sorted by target name and carries
// each target's weight. In active-passive policies the burst_only targets
// follow these same rules (weight does not gate them there).
//
// In active-active policies, when no target would serve, every eligible
// target that is up rejoins at once, held or still in its failback delay:
// any healthy target beats the when_all_down answer (the counterpart of
// active-passive taking the best up target when it has none).
//
// # Nothing serving
//
// When no target serves, when_all_down decides: "fallback" answers the
// policy's fallback addresses or cname as the target named "fallback" (a
// name policies may therefore not use), "fail_open" answers every enabled
// target regardless of health (burst_only ones only while the toggle is
// engaged, and, in active-active, only those with a weight above 0),
// "fail_closed" answers nothing. An active-passive policy whose failover
// targets are all down but whose burst targets serve is not "all down".
//
// # Overrides
//
// An operator override pins the policy to one target until its expires_at:
// exactly that target serves, whatever its health and whatever the burst
// toggle says, and NextWake is at most the expiry. An override naming a
// target that is not in the policy or is disabled is ignored (the reason
// says so), because a disabled target is declared never to take traffic.
// While an override is in force the automatic state is frozen and
// State.Override records the pinned target.
//
// When an override ends (cleared or expired) the evaluator starts over as on
// its first evaluation: the best up target becomes active immediately, every
// up target is back in rotation and every manual-failback hold is released.
// That is how an operator performs a manual failback: once the recovered
// site is trusted again, set an override (for example to that site, for a
// minute) and clear it. Changing failback to "auto" also releases the holds,
// which then return after the failback delay.
//
// # Robustness
//
// Evaluate must never panic, even on a policy Validate would reject: omitted
// fields read as their defaults, negative delays as 0, negative weights as
// 0, a mode other than "active-active" as "active-passive" and an unknown
// when_all_down as "fail_closed". Results never depend on Go's map iteration
// order.
package policy
