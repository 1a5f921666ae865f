#!/bin/sh
# The demo's workload (tools/demo.sh): edits a file, creates a directory,
# compiles a program and runs it, deletes a file. It runs copy-on-write:
# the tree it was copied into stays as it was unless the changes are kept.
set -e
sort data/names.txt > data/sorted.txt
sed -i 's/draft/final/' notes.txt
mkdir -p build
if command -v cc > /dev/null 2>&1; then
  cc -O0 -o build/greet_program src/greet.c
  ./build/greet_program > build/greeting.txt
else
  echo "no cc here: nothing compiled" > build/greeting.txt
fi
rm data/names.txt
ls -l build > /dev/null
