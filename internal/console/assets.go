package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// The app, built from web/ by `make console` (esbuild; see web/build.mjs)
// into dist/, which is committed: the Go binary builds without Node, and
// the build is reproducible (pinned lockfile, deterministic output), which
// `make test` checks by rebuilding and comparing.
//
//go:embed dist
var dist embed.FS

// assets serves dist/: index.html at /console/, the hashed-free bundles
// under /console/assets/. The page's Content-Security-Policy allows only
// its own scripts, styles and API.
func assets() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("BUG: console assets: " + err.Error())
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		name := strings.TrimPrefix(r.URL.Path, "/console")
		if name == "/" {
			h.Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, sub, "index.html")
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = name
		files.ServeHTTP(w, r2)
	})
}
