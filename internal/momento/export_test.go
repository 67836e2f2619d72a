package momento

// SharedFrames lets the fan-out benchmark compare shared and per-stream
// encoding.
var SharedFrames = &sharedFrames
