package identity

import "context"

// Masked returns a Source that hands every token it gets from src to mask (e.g. ci.Platform.Mask,
// which hides it in the CI log) before anything could print it.
func Masked(src Source, mask func(string)) Source { return &masked{src: src, mask: mask} }

type masked struct {
	src  Source
	mask func(string)
}

func (m *masked) Token(ctx context.Context) (string, error) {
	t, err := m.src.Token(ctx)
	if err == nil && t != "" {
		m.mask(t)
	}
	return t, err
}

func (m *masked) Name() string { return m.src.Name() }
