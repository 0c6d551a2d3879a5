package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/msgsec/msgsec/middleware"
)

// The wrong way to mount the middleware: a ServeMux pattern with a method
// never routes the CORS preflight to the wrapped handler. The mux answers
// the browser's OPTIONS with 405 itself, without CORS headers, so the
// browser never sends the POST and the widget cannot open a chat. Mount
// routes with [middleware.Middleware.Routes] instead (see its example).
func Example_incorrectMethodPattern() {
	m, _ := middleware.ForPolicy(examplePolicy(), middleware.WithLogger(nil))
	mux := http.NewServeMux()
	mux.Handle("POST /connections/{connection}/sessions", m.Handler(http.NotFoundHandler())) // WRONG

	r := httptest.NewRequest(http.MethodOptions, "/connections/retail-bank/sessions", nil)
	r.Header.Set("Origin", "https://www.uplusbank.com")
	r.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Allow"), w.Header().Get("Access-Control-Allow-Origin") == "")
	// Output: 405 POST true
}
