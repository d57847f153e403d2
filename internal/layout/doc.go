// Package layout is the authoring side of in-toto layouts: a YAML document people can write
// (Decode), its compilation to an in-toto v1.0 layout (Compile), findings about it (Lint), and a
// proposal drawn from the links of a real run (Propose). The YAML shape and the keyless-functionary
// extension are specified in docs/layout-spec.md.
package layout
