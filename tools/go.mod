module github.com/intoto-ci/intoto-ci/tools

go 1.26.8

require (
	github.com/tektoncd/pipeline v1.9.0 // indirect
	go.yaml.in/yaml/v2 v2.4.2 // indirect
	sigs.k8s.io/yaml v1.6.0 // indirect
)
