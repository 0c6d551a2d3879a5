module github.com/msgsec/msgsec/bench/jub0bs

go 1.26.0

require github.com/msgsec/msgsec v0.0.0

replace github.com/msgsec/msgsec => ../..
