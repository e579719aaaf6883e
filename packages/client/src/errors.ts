/** Every failure the client reports is a SwitchboardError, the same class the server uses. */
export { SwitchboardError } from '@switchboard/protocol'
