echo "demo: nothing to show yet"
