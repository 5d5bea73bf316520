/** Asking before a destructive action: what is at stake, the action's button, and Cancel. */
import { Button, Modal, ModalBody, ModalFooter, ModalHeader } from '@patternfly/react-core';
import type { ReactNode } from 'react';

export interface ConfirmProps {
  /** What is being asked about; the dialog is open while it is set. */
  subject: string | null;
  /** The verb on the button and in the title: "Delete" asks "Delete web-server?". */
  action: string;
  children: ReactNode;
  /** The button that leaves things as they are ("Keep it" where "Cancel" would read as the action). */
  dismiss?: string;
  onConfirm(subject: string): void;
  onCancel(): void;
}

export function Confirm({
  subject,
  action,
  children,
  dismiss = 'Cancel',
  onConfirm,
  onCancel,
}: ConfirmProps) {
  return (
    <Modal isOpen={subject !== null} onClose={onCancel} variant="small" aria-labelledby="confirm-title">
      <ModalHeader title={`${action} ${subject ?? ''}?`} labelId="confirm-title" titleIconVariant="warning" />
      <ModalBody>{children}</ModalBody>
      <ModalFooter>
        <Button variant="danger" onClick={() => subject !== null && onConfirm(subject)}>
          {action}
        </Button>
        <Button variant="link" onClick={onCancel}>
          {dismiss}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
