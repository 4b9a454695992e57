"""/language: the person picks the language the studio speaks to them (issue 26)."""
