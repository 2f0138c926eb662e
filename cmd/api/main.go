// Command api is the typedapi service: one binary that serves the API over
// HTTP (laptop, container) or as an AWS Lambda function, and prints its
// OpenAPI document. Run `api help` for the commands.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
