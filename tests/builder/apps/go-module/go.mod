module github.com/acme/go-module-app/v2

go 1.22

require example.com/words v0.0.0

replace example.com/words => ./words
