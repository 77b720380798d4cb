// A tiny static test image for the real node: `say`, `serve`, `get` and `sleep`.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tool say MSG | serve PORT TEXT | get URL TRIES | sleep")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "say":
		fmt.Println(strings.Join(os.Args[2:], " "))
	case "serve":
		text := os.Args[3]
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, text) })
		if err := http.ListenAndServe(":"+os.Args[2], nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "get":
		tries, _ := strconv.Atoi(os.Args[3])
		client := http.Client{Timeout: 2 * time.Second}
		for i := 0; i < tries; i++ {
			resp, err := client.Get(os.Args[2])
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fmt.Printf("status %d: %s", resp.StatusCode, body)
				os.Exit(0)
			}
			fmt.Fprintln(os.Stderr, "attempt", i, err)
			time.Sleep(time.Second)
		}
		os.Exit(1)
	case "sleep":
		time.Sleep(24 * time.Hour)
	default:
		os.Exit(2)
	}
}
