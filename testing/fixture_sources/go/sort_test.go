// go test -bench fixture source: sub-benchmarks whose names end in -N (len-100, len-10000),
// throughput (MB/s from SetBytes), allocations (-benchmem) and a custom unit (ReportMetric).
package fixtures

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"testing"
)

func BenchmarkSort(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("len-%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewSource(1))
			base := make([]int, n)
			for i := range base {
				base[i] = rng.Int()
			}
			work := make([]int, n)
			b.SetBytes(int64(8 * n))
			for i := 0; i < b.N; i++ {
				copy(work, base)
				sort.Ints(work)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	items := make([]map[string]int, 20)
	for i := range items {
		items[i] = map[string]int{"id": i, "qty": i % 3}
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := json.Marshal(items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(items)), "items/op")
}
