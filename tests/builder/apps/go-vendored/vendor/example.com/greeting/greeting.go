// Package greeting is a dependency this app vendors: it builds without any network.
package greeting

func Hello(who string) string {
	return "Hello " + who + " from a vendored module"
}
