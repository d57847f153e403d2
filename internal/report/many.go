package report

import (
	"bytes"
	"io"

	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// Choose resolves the formats asked for (each --report, then json for --json) to the ones to write:
// text when none is asked; the first unknown one is returned as bad.
func Choose(asked []string, json bool) (formats []string, bad string) {
	formats = append([]string(nil), asked...)
	if json {
		formats = append(formats, "json")
	}
	if len(formats) == 0 {
		formats = []string{"text"}
	}
	for _, f := range formats {
		if !Valid(f) {
			return nil, f
		}
	}
	return formats, ""
}

// WriteAll writes res in each format to out; with a report file (toFile), the last format is
// rendered for the file and returned. With several formats the file's goes to the file only: a CI
// log shows the text report, not the JUnit XML kept for the test tab. With one, out gets it too.
func WriteAll(out io.Writer, formats []string, toFile bool, res *verify.Result) (file []byte, err error) {
	toOut := formats
	if toFile && len(formats) > 1 {
		toOut = formats[:len(formats)-1]
	}
	for _, f := range toOut {
		if err := Write(out, f, res); err != nil {
			return nil, err
		}
	}
	if !toFile {
		return nil, nil
	}
	var b bytes.Buffer
	if err := Write(&b, formats[len(formats)-1], res); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
