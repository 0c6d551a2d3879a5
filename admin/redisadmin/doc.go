// Package redisadmin keeps the console's [admin.Journal] — the audit trail
// and the roll-out counts of refused origins — in Redis, so every console
// and chat-server instance of a fleet reads and adds to the same one.
//
// Keys: <prefix>:audit and <prefix>:{<connection>}:audit, lists of JSON
// entries (every connection's, and one connection's), newest first, each
// trimmed to [admin.MaxEntries]; and <prefix>:{<connection>}:refused:<hour>, a sorted
// set of origins by count per connection and hour, at most
// [admin.MaxOriginsPerHour] members plus [admin.OtherOrigins], expiring
// after three hours. The connection ID is the key's hash tag, so a
// connection's counts share a Cluster slot and connections spread; no
// secret is in a key or a value (audit entries hold none).
package redisadmin
