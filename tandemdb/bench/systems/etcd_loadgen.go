// The etcd load generator in Go, on clientv3 (Debian's golang-etcd-server-dev): the same stdin/stdout protocol
// and result file as tandemdb/bench/loadgen.py, replaying the runner's tape of operations instead of drawing
// them. Built by etcd.py when Go is present.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"go.etcd.io/etcd/clientv3"
	"go.uber.org/zap"
)

const callTimeout = 5 * time.Second
const retryPause = 10 * time.Millisecond
const drain = 10 * time.Second

type spec struct {
	ClientSpec struct {
		Endpoints []string `json:"endpoints"`
	} `json:"client_spec"`
	Clients   int    `json:"clients"`
	ValueSize int    `json:"value_size"`
	Tape      string `json:"tape"`
	Out       string `json:"out"`
}

type window struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// Seconds on CLOCK_MONOTONIC, Python's time.monotonic(): one clock for every process of the run.
var monoBase float64
var goBase = time.Now()

func monotonic() float64 { return monoBase + time.Since(goBase).Seconds() }

func init() {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	goBase = time.Now()
	monoBase = float64(ts.Sec) + float64(ts.Nsec)/1e9
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

type recorder struct {
	start, end atomic.Uint64 // float64 bits
	stopping   atomic.Bool
	errors     atomic.Int64
	firstError atomic.Value
}

func (r *recorder) inWindow(t float64) bool {
	return math.Float64frombits(r.start.Load()) <= t && t < math.Float64frombits(r.end.Load())
}

func (r *recorder) failed(err error) {
	if r.inWindow(monotonic()) {
		r.errors.Add(1)
		r.firstError.CompareAndSwap(nil, strings.Join(strings.Fields(err.Error()), " "))
	}
}

func execute(c *clientv3.Client, op [2]string, value string) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	var err error
	switch op[0] {
	case "put":
		_, err = c.Put(ctx, op[1], value)
	case "get":
		_, err = c.Get(ctx, op[1])
	default:
		_, err = c.Get(ctx, op[1], clientv3.WithSerializable())
	}
	return err
}

func clientLoop(c *clientv3.Client, tape [][2]string, offset int, value string, rec *recorder) []float64 {
	var pairs []float64
	for i := offset; !rec.stopping.Load(); i++ {
		op := tape[i%len(tape)]
		started := monotonic()
		for {
			err := execute(c, op, value)
			if err == nil {
				break
			}
			rec.failed(err)
			if rec.stopping.Load() {
				return pairs
			}
			time.Sleep(retryPause)
		}
		if ended := monotonic(); rec.inWindow(ended) {
			pairs = append(pairs, started, ended)
		}
	}
	return pairs
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcd load generator:", err)
		os.Exit(1)
	}
}

func main() {
	stdin := bufio.NewReader(os.Stdin)
	line, err := stdin.ReadBytes('\n')
	check(err)
	var s spec
	check(json.Unmarshal(line, &s))
	raw, err := os.ReadFile(s.Tape)
	check(err)
	var tape [][2]string
	check(json.Unmarshal(raw, &tape))
	logs := zap.NewProductionConfig() // failed attempts are counted, not logged
	logs.Level = zap.NewAtomicLevelAt(zap.FatalLevel)
	c, err := clientv3.New(clientv3.Config{Endpoints: s.ClientSpec.Endpoints, DialTimeout: callTimeout, LogConfig: &logs})
	check(err)
	defer c.Close()

	rec := &recorder{}
	rec.start.Store(math.Float64bits(math.Inf(1)))
	rec.end.Store(math.Float64bits(math.Inf(1)))
	value := strings.Repeat("v", s.ValueSize)
	var results [][]float64 // of the clients that stopped in time
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < s.Clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			pairs := clientLoop(c, tape, i*len(tape)/s.Clients, value, rec)
			mu.Lock()
			results = append(results, pairs)
			mu.Unlock()
		}(i)
	}
	fmt.Println("ready")

	line, err = stdin.ReadBytes('\n')
	check(err)
	var w window
	check(json.Unmarshal(line, &w))
	rec.start.Store(math.Float64bits(w.Start))
	rec.end.Store(math.Float64bits(w.End))
	time.Sleep(time.Duration((w.Start - monotonic()) * float64(time.Second)))
	cpuStart := cpuSeconds()
	time.Sleep(time.Duration((w.End - monotonic()) * float64(time.Second)))
	cpu := cpuSeconds() - cpuStart
	rec.stopping.Store(true)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drain):
	}

	first, _ := rec.firstError.Load().(string)
	header, err := json.Marshal(map[string]any{"errors": rec.errors.Load(), "cpu_s": cpu, "first_error": first})
	check(err)
	out, err := os.Create(s.Out)
	check(err)
	buf := bufio.NewWriter(out)
	buf.Write(append(header, '\n'))
	mu.Lock()
	for _, pairs := range results {
		check(binary.Write(buf, binary.LittleEndian, pairs))
	}
	mu.Unlock()
	check(buf.Flush())
	check(out.Close())
}
