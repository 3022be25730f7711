package starhost_test

import "sync/atomic"

type atomicInt struct{ v atomic.Int64 }

func (a *atomicInt) add(n int)   { a.v.Add(int64(n)) }
func (a *atomicInt) load() int64 { return a.v.Load() }
