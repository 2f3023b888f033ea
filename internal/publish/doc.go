// Package publish mirrors policy decisions into DNS servers failoverd does
// not run (Route 53, RFC 2136 servers) from a durable outbox (DESIGN §8).
//
// The outbox is the store bucket BucketOutbox. The leader writes a policy's
// entry for each destination (EntryKey) in the same commit as the decision
// that causes it (engine), keyed by policy and destination: a newer
// decision overwrites the older one, so a destination that was down for a
// while receives the newest record set once, never a backlog of stale
// ones. A Manager, on the leader only, runs one worker per entry; a
// worker publishes the entry, retries with backoff until the destination
// takes it, records where it stands (StatusKey) in the same bucket, and
// reconciles: it reads the record back periodically and writes it again
// when someone changed it outside failoverd. Workers are independent, so a
// slow or failing destination delays nothing else, and nothing of it is on
// the path of decisions or of failoverd's own DNS answers. A new leader
// (or a restarted one) lists the outbox and resumes: an entry whose digest
// differs from its status's published digest is published again.
package publish
