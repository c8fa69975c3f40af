require "sinatra"
get("/") { "Hello from Ruby" }
