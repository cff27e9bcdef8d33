//! Changes made in the API or the web UI, each written as a new version: the server appends
//! to files it owns under `server/` (one per kind of change), never rewriting the user's own
//! files except where a change must be made in place (ending a contract).
