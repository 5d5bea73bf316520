/** The browser page's login: the service's bearer token, kept for this tab only. */
import {
  ActionGroup,
  Alert,
  Button,
  Form,
  FormGroup,
  FormHelperText,
  HelperText,
  HelperTextItem,
  LoginPage,
  TextInput,
} from '@patternfly/react-core';
import { type FormEvent, useState } from 'react';

export interface LoginProps {
  /** Why the login is shown again (a refused token), if it is. */
  problem?: string;
  onToken(token: string): Promise<void>;
}

export function Login({ problem, onToken }: LoginProps) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      await onToken(token.trim());
    } finally {
      setBusy(false);
    }
  };
  return (
    <LoginPage loginTitle="Log in to Debian Forge" loginSubtitle="Build Debian images from blueprints">
      <Form onSubmit={submit} aria-label="Log in">
        {problem && <Alert variant="danger" isInline title={problem} />}
        <FormGroup label="Access token" isRequired fieldId="login-token">
          <TextInput
            id="login-token"
            type="password"
            value={token}
            onChange={(_e, value) => setToken(value)}
            isRequired
            autoComplete="current-password"
          />
          <FormHelperText>
            <HelperText>
              <HelperTextItem>
                A token of the service: <code>--token</code>, <code>FORGE_API_TOKENS</code>, or the file{' '}
                <code>api-token</code> in its state directory. It is kept for this tab only.
              </HelperTextItem>
            </HelperText>
          </FormHelperText>
        </FormGroup>
        <ActionGroup>
          <Button
            type="submit"
            variant="primary"
            isBlock
            isDisabled={busy || token.trim() === ''}
            isLoading={busy}
          >
            Log in
          </Button>
        </ActionGroup>
      </Form>
    </LoginPage>
  );
}
