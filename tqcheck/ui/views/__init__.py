"""The pages of the reviewer UI, one script each (run by st.navigation, not imported)."""
