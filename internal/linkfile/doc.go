// Package linkfile is the one place that writes a link: a v0.9 link or an in-toto Statement, in a DSSE
// or legacy envelope signed with keys, or a Statement in a Sigstore bundle signed keylessly, named as
// the peers name link files (keyless: by signer and content); and the files a step leaves between two
// commands: the unfinished link of 'record start' (signed, checked by 'record stop') and the unsigned
// link kept when a keyless signature fails (for 'sign' in the same job). run, record and sign call it;
// internal/cli only turns flags into its Options. Every file is written through a temporary file and a
// rename (WriteFile).
package linkfile
