#!/bin/sh
while true; do echo "working"; sleep 5; done
