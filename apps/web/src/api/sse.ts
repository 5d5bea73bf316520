/**
 * Server-sent events (the text/event-stream format) read from the pieces a transport hands over:
 * a piece may end inside a line or between the lines of one event, so what is not yet a whole
 * event is kept for the next piece. Comments (the service's heartbeats) are dropped; `data` lines
 * of one event are joined with newlines, as the format says.
 */

export interface ServerEvent {
  /** The `event:` field; 'message' when the event names none. */
  event: string;
  data: string;
  id?: string;
}

export interface EventParser {
  /** Reads one piece of the stream; `onEvent` is called for each event it completes. */
  push(text: string): void;
}

export function eventParser(onEvent: (event: ServerEvent) => void): EventParser {
  let rest = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;

  const line = (text: string) => {
    if (text === '') {
      if (data.length > 0)
        onEvent({ event: event || 'message', data: data.join('\n'), ...(id ? { id } : {}) });
      event = '';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id' && !value.includes('\0')) id = value;
  };

  return {
    push(text) {
      rest += text;
      // A lone '\r' at the end may be the first half of '\r\n': wait for the next piece.
      const lines = rest.split(/\r\n|\r(?!$)|\n/);
      rest = lines.pop() ?? '';
      for (const l of lines) line(l);
    },
  };
}
