package main

import "testing"

func TestGreeting(t *testing.T) {
	if got, want := greeting("world"), "hello, world"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
