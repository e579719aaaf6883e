throw new Error('uWebSockets.js is not installed: it is only published on GitHub. Use a ws-* connection endpoint.')
