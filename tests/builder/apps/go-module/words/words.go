// Package words is a module of the app's own, used through a replace directive.
package words

const Message = "code=one"
