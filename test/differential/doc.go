// Package differential holds only tests: a seeded generator of random supply chains (layouts of 1–4
// steps with rule lists drawn from all seven rule types, artifact sets with overlaps, thresholds,
// missing links) verified by in-toto-python 1.3.1 and by intoto-ci's verify package; the verdicts,
// and the stage of a refusal, must agree. Known divergences where python is wrong are listed in
// docs/divergences.md; the test skips exactly those classes.
package differential
