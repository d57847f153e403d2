// Package report renders a verification result for people and machines: text for a terminal, the
// JSON report (the verify.Result, schema in docs/report-schema.md), GitHub job-summary markdown and
// JUnit XML. It also draws progress for long hashing and verifying on stderr.
package report
