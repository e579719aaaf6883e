#!/usr/bin/env node
// A committed entry point so npm can link the `switchboard` bin at install time, before the
// TypeScript build has produced dist/.
import '../dist/bin.js'
