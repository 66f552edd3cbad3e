# ftfuzz generated program: checked results are fixed by construction, whatever the interleaving.
# generator: ftfuzz-gen/1
# seed: 3
# options: {"containerProbability":0.2,"effects":["exact","invariant-only","crash-only"],"gcProbability":0.1,"iterations":[20,200],"kinds":[],"objects":[1,3],"opsPerThread":[1,4],"rounds":1,"sharedIteratorWeight":0.2,"sleepProbability":0.1,"switchIntervals":[0.005,0.0001,0.00001,0.000001],"threads":[2,8],"warmupRounds":2}
# regenerate: ftfuzz gen --seed '3' --options '{"containerProbability":0.2,"effects":["exact","invariant-only","crash-only"],"gcProbability":0.1,"iterations":[20,200],"kinds":[],"objects":[1,3],"opsPerThread":[1,4],"rounds":1,"sharedIteratorWeight":0.2,"sleepProbability":0.1,"switchIntervals":[0.005,0.0001,0.00001,0.000001],"threads":[2,8],"warmupRounds":2}'
# threads: 5, iterations: 78, switch interval: 0.000001
# objects: o0=Lock (exact), o1=Random (invariant-only), o2=Semaphore (exact)
# documented-unsafe: none
# standalone: python3.13t THIS_FILE exits 1 with a message when a check fails
# scenario: {"threads":5,"iterations":78,"switchInterval":0.000001,"objects":[{"v":"o0","kind":"Lock","viaContainer":true},{"v":"o1","kind":"Random","viaContainer":false},{"v":"o2","kind":"Semaphore","viaContainer":false}],"threadOps":[{"ops":[{"op":"Semaphore.with_inc","obj":"o2","sleepAfter":false}],"gcEvery":null},{"ops":[{"op":"Lock.with_inc","obj":"o0","sleepAfter":false},{"op":"Semaphore.with_inc","obj":"o2","sleepAfter":false},{"op":"Random.randrange","obj":"o1","sleepAfter":false},{"op":"Lock.with_inc","obj":"o0","sleepAfter":false}],"gcEvery":null},{"ops":[{"op":"Lock.try_acquire_inc","obj":"o0","sleepAfter":false},{"op":"Semaphore.with_inc","obj":"o2","sleepAfter":false},{"op":"Lock.with_inc","obj":"o0","sleepAfter":false},{"op":"Semaphore.with_inc","obj":"o2","sleepAfter":false}],"gcEvery":null},{"ops":[{"op":"Random.getrandbits","obj":"o1","sleepAfter":false},{"op":"Lock.locked","obj":"o0","sleepAfter":false},{"op":"Semaphore.with_inc","obj":"o2","sleepAfter":true}],"gcEvery":null},{"ops":[{"op":"Random.randrange","obj":"o1","sleepAfter":true}],"gcEvery":null}]}
#
import collections, gc, json, os, random, sys, threading, time, types, weakref
