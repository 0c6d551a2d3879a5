package redisadmin_test

import (
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/msgsec/msgsec/admin/redisadmin"
)

// A fleet's console and chat servers share one journal in Redis. The
// client must bound every call (ContextTimeoutEnabled).
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	journal, err := redisadmin.New(client, redisadmin.Config{Prefix: "msgsec:admin"})
	fmt.Println(journal, err)
	// Output:
	// redisadmin.Journal(msgsec:admin) <nil>
}
