"""Second chances: a failed post's safe retry under the same id, and the list of its attempts."""
