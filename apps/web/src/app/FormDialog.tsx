/** A dialog around one form: its title, the form (Enter submits it), the submit button and Cancel. */
import { Button, Form, Modal, ModalBody, ModalFooter, ModalHeader } from '@patternfly/react-core';
import type { ReactNode } from 'react';

export interface FormDialogProps {
  /** The form is `<id>-form`, the title `<id>-title`. */
  id: string;
  title: string;
  /** The submit button's label. */
  submit: string;
  onSubmit(): void;
  onClose(): void;
  isOpen?: boolean;
  variant?: 'small' | 'medium';
  /** While set, the submit button shows progress (left out: a button without a progress state). */
  busy?: boolean;
  /** False keeps the submit button disabled. */
  canSubmit?: boolean;
  /** Above the form: what concerns no single field. */
  notice?: ReactNode;
  children: ReactNode;
}

export function FormDialog(props: FormDialogProps) {
  const { id, busy, canSubmit = true } = props;
  return (
    <Modal
      isOpen={props.isOpen ?? true}
      onClose={props.onClose}
      variant={props.variant ?? 'small'}
      aria-labelledby={`${id}-title`}
    >
      <ModalHeader title={props.title} labelId={`${id}-title`} />
      <ModalBody>
        {props.notice}
        <Form
          id={`${id}-form`}
          onSubmit={(e) => {
            e.preventDefault();
            props.onSubmit();
          }}
        >
          {props.children}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button
          variant="primary"
          type="submit"
          form={`${id}-form`}
          {...(busy === undefined ? {} : { isLoading: busy })}
          isDisabled={!canSubmit}
        >
          {props.submit}
        </Button>
        <Button variant="link" onClick={props.onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}
