// Temporary profiling harness (not committed).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/artifact"
	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func main() {
	key, err := intoto.LoadKey(os.Args[2])
	if err != nil {
		panic(err)
	}
	t0 := time.Now()
	arts, err := artifact.Record(context.Background(), []string{os.Args[1]}, artifact.Options{DefaultExcludes: true})
	if err != nil {
		panic(err)
	}
	t1 := time.Now()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Println("after record: heapinuse MB", ms.HeapInuse>>20, "took", t1.Sub(t0))
	l := &intoto.Link{Type: "link", Name: "rec", Products: arts, Materials: intoto.Artifacts{}, ByProducts: map[string]any{}, Environment: map[string]any{}}
	payload, err := json.Marshal(l)
	if err != nil {
		panic(err)
	}
	t2 := time.Now()
	data, err := envelope.SignDSSE(intoto.PayloadType, payload, key)
	if err != nil {
		panic(err)
	}
	t3 := time.Now()
	runtime.ReadMemStats(&ms)
	fmt.Println("marshal", t2.Sub(t1), "sign", t3.Sub(t2), "len", len(payload), len(data), "totalalloc MB", ms.TotalAlloc>>20, "sys MB", ms.Sys>>20)
	if len(os.Args) > 3 {
		f, _ := os.Create(os.Args[3])
		pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
}
