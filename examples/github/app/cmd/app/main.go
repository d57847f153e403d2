// Command app is the tiny program the example release workflow builds, tests and packages.
package main

import "fmt"

func greeting(name string) string { return "hello, " + name }

func main() { fmt.Println(greeting("world")) }
