package admin

import (
	"embed"
	"html/template"
	"net/http"
)

//go:embed static/console.js static/console.css
var static embed.FS

var pageTmpl = template.Must(template.ParseFS(pageFS, "static/console.html"))

//go:embed static/console.html
var pageFS embed.FS

// pageRoutes serves the Security-tab page: server-rendered HTML whose one
// script (no inline code, no build step) drives the JSON API.
func (h *Handler) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = pageTmpl.Execute(w, map[string]any{"Principal": principal(r)})
	})
	for _, name := range []string{"console.js", "console.css"} {
		mux.Handle("GET /static/"+name, http.FileServerFS(static)) // the two files only: no listing
	}
}
