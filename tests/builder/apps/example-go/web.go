package main

import (
	"fmt"
	"net/http"
	"os"
)

func handler(w http.ResponseWriter, r *http.Request) {
	release := os.Getenv("WORKFLOW_RELEASE")
	if release == "" {
		release = "unknown"
	}
	fmt.Fprintf(w, "Powered by Deis\nRelease %s on %s\n", release, os.Getenv("DEIS_APP"))
}

func main() {
	http.HandleFunc("/", handler)
	port := os.Getenv("PORT")
	if port == "" {
		port = "5000"
	}
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		panic(err)
	}
}
