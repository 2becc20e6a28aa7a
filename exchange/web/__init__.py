"""The server-rendered web site: thin views over services and selectors, forms for input."""
