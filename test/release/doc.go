// Package release tests the release definition (.goreleaser.yaml through `make release`): two builds on
// one commit give byte-identical assets, and every consumer of the release (action.yml and its install
// script, the GitLab templates, the Tekton StepActions, the Dockerfiles and their ignore files, the docs)
// names exactly the assets and image the release produces.
package release
